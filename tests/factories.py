import factory

from members.models import Member


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    external_id = factory.Sequence(lambda n: f"M-{n:06d}")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"member{n}@example.com")
    timezone = "UTC"
