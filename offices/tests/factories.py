import factory

from offices.models import Office


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Office {n}")
    address = factory.Faker("street_address")
    phone = factory.Sequence(lambda n: f"+4420700{n:05d}")
    email = factory.Sequence(lambda n: f"office{n}@example.com")
    timezone = "Europe/London"
    country = "GB"
