import factory

from accounts.models import Role, User
from offices.tests.factories import OfficeFactory

PASSWORD = "Correct-Horse-42"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.STUDENT
    office: factory.SubFactory | None = None  # staff roles' factories give one
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SuperAdminFactory(UserFactory):
    role = Role.SUPER_ADMIN


class ManagerFactory(UserFactory):
    role = Role.MANAGER
    office = factory.SubFactory(OfficeFactory)


class ConsultantFactory(UserFactory):
    role = Role.CONSULTANT
    office = factory.SubFactory(OfficeFactory)


class ReceptionistFactory(UserFactory):
    role = Role.RECEPTIONIST
    office = factory.SubFactory(OfficeFactory)


class StudentFactory(UserFactory):
    role = Role.STUDENT
