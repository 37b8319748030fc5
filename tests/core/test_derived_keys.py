"""Keys derived from a client's Idempotency-Key (up to 255 characters) always fit the 255-character key columns."""

import pytest
from django.contrib.auth.models import Group, User

from core.idempotency import MAX_KEY_LENGTH, derived_key
from loyalty.models import Transaction

LONGEST = "k" * MAX_KEY_LENGTH


def test_a_derived_key_fits_whatever_it_is_derived_from():
    key = derived_key("points-paid", 2**63, LONGEST, 2**63)
    assert len(key) <= MAX_KEY_LENGTH and key.startswith("points-paid:")
    assert derived_key("points-paid", 1, LONGEST, 7) == derived_key("points-paid", 1, LONGEST, 7)


@pytest.mark.parametrize(("one", "other"), [
    (("recover", 1, "a:b", 2), ("recover", 1, "a", "b:2")),  # a join would make these one key
    (("recover", 1, "a", 2), ("recover", 2, "a", 1)),
    (("recover", 1, "a", 2), ("points-paid", 1, "a", 2)),
])
def test_different_parts_give_different_keys(one, other):
    assert derived_key(*one) != derived_key(*other)


def test_a_prefix_that_leaves_no_room_is_a_programming_error():
    with pytest.raises(ValueError):
        derived_key("p" * 200, "x")


def test_the_admin_adjust_form_takes_the_longest_key(client, member, program):
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.groups.add(Group.objects.get(name="Clerk"))
    client.force_login(clerk)
    url = f"/admin/members/member/{member.pk}/adjust/"
    for _ in range(2):  # submitted twice: one adjustment
        r = client.post(url, {"points": 50, "reason": "Goodwill", "key": "x" * 300})
        assert r.status_code == 302
    assert list(Transaction.objects.values_list("points", flat=True)) == [50]
