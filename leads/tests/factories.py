import factory

from leads.models import Lead, LeadSource
from offices.tests.factories import OfficeFactory


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    phone = factory.Sequence(lambda n: f"+4477000{n:05d}")
    source = LeadSource.WALK_IN
    office = factory.SubFactory(OfficeFactory)
