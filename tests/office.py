"""Staff users of the back office, by role, for the admin's tests: `clerk`, `manager` (pytest fixtures)."""

import pytest
from django.contrib.auth.models import Group, User


def staff(username: str, role: str) -> User:
    user = User.objects.create_user(username, password="a long password 1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def clerk(db, program):
    return staff("clerk", "Clerk")


@pytest.fixture
def manager(db, program):
    return staff("manager", "Manager")


@pytest.fixture
def give(db, program):
    """give(member, points): credit points as a staff adjustment would."""
    import uuid

    from loyalty.services import points_adjust
    from loyalty.services.ledger import channel_id

    def _give(member, points):
        return points_adjust(member=member, points=points, reason="test credit", channel_id=channel_id("admin"),
                             idempotency_key=uuid.uuid4().hex, actor=None)
    return _give
