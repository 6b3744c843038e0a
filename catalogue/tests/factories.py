from decimal import Decimal

import factory

from catalogue.models import Course, Partnership, University


class UniversityFactory(factory.django.DjangoModelFactory[University]):
    class Meta:
        model = University

    name = factory.Sequence(lambda n: f"University {n}")
    country = "GB"
    city = "London"
    partnership = Partnership.DIRECT
    commission_rate = Decimal("15.00")


class CourseFactory(factory.django.DjangoModelFactory[Course]):
    class Meta:
        model = Course

    university = factory.SubFactory(UniversityFactory)
    name = factory.Sequence(lambda n: f"MSc Course {n}")
    level = "master"
    field = "Computer Science"
    duration_months = 12
    tuition_fee = Decimal("20000.00")
    currency = "GBP"
    intakes = factory.LazyFunction(lambda: [1, 9])
