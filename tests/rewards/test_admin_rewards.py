"""The rewards catalog in the back office: a reward's fields are required by its kind, with friendly errors."""

import pytest

from rewards.models import Cause, Reward
from tests import office

pytestmark = pytest.mark.django_db
manager = office.manager  # fixtures


def reward_form(**changes) -> dict:
    data = {"code": "deal", "name": "A deal", "kind": "percent_discount", "points_cost": 500, "value": "10",
            "currency": "", "description": "", "image_url": "", "product_sku": "", "limit_period": ""}
    return {**data, **changes}


@pytest.mark.parametrize("changes, field_error", [
    ({"kind": "percent_discount", "value": "150"}, "A percentage is more than 0 and at most 100."),
    ({"kind": "percent_discount", "value": ""}, "A percentage discount needs its percentage."),
    ({"kind": "fixed_discount", "value": ""}, "A fixed discount needs its amount."),
    ({"kind": "donation", "value": ""}, "A donation needs the cause it goes to."),
    ({"kind": "fixed_discount", "value": "5", "currency": "euro"}, "Select a valid choice."),
])
def test_a_reward_missing_what_its_kind_needs_is_refused_with_a_friendly_error(client, manager, changes, field_error):
    client.force_login(manager)
    r = client.post("/admin/rewards/reward/add/", reward_form(**changes))
    text = r.content.decode()
    assert r.status_code == 200 and field_error in text
    assert "onstraint" not in text
    assert not Reward.objects.exists()


def test_good_rewards_are_saved(client, manager):
    client.force_login(manager)
    cause = Cause.objects.create(code="trees", name="Plant trees")
    client.post("/admin/rewards/reward/add/", reward_form(code="pct", value="15"))
    client.post("/admin/rewards/reward/add/", reward_form(code="fix", kind="fixed_discount", value="5",
                                                          currency="EUR"))
    client.post("/admin/rewards/reward/add/", reward_form(code="tree", kind="donation", value="", cause=cause.pk))
    assert dict(Reward.objects.values_list("code", "kind")) == {
        "pct": "percent_discount", "fix": "fixed_discount", "tree": "donation"}
