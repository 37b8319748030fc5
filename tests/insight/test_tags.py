"""Manual and rule-based tags, and tags as segments."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from insight.models import MemberFacts, MemberTag, Tag
from insight.services import member_tag_attach, segments_compute, tags_evaluate

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def facts(member, *, orders, spend, last):
    MemberFacts.objects.create(member=member, first_order_at=NOW - timedelta(days=300),
                               last_order_at=NOW - timedelta(days=last), orders_count=orders, spend=Decimal(spend))


def tagged(code):
    return set(MemberTag.objects.filter(tag__code=code).values_list("member__external_id", flat=True))


def test_rule_tags_follow_their_condition_and_manual_tags_stay(api, member_factory):
    big, small, gone = (member_factory(joined_at=NOW - timedelta(days=400)) for _ in range(3))
    facts(big, orders=5, spend="500", last=10)
    facts(small, orders=1, spend="20", last=10)
    facts(gone, orders=2, spend="300", last=200)
    Tag.objects.create(code="big-spender", name="Big spender", rule_field="spend", rule_op="gte", rule_value="300")
    Tag.objects.create(code="lost", name="Lost", rule_field="stage", rule_op="eq", rule_value="churned")
    Tag.objects.create(code="lapsing", name="Lapsing", rule_field="days_since_last_order", rule_op="gte",
                       rule_value="150")
    vip = Tag.objects.create(code="vip", name="VIP")
    member_tag_attach(member=small, tag=vip)
    segments_compute(now=NOW)
    assert tags_evaluate(now=NOW) == {"big-spender": 2, "lost": 1, "lapsing": 1}
    assert tagged("big-spender") == {big.external_id, gone.external_id}
    assert tagged("lost") == tagged("lapsing") == {gone.external_id}

    # big refunds most of it: it drops out of the rule tag at the next run; the manual tag stays.
    MemberFacts.objects.filter(member=big).update(spend=Decimal("100"))
    tags_evaluate(now=NOW)
    assert tagged("big-spender") == {gone.external_id} and tagged("vip") == {small.external_id}

    insight = api.get(f"/api/v1/members/{small.external_id}/insight").json()
    assert insight["tags"] == ["vip"]
    counts = {s["segment"]: s["members"] for s in api.get("/api/v1/segments").json()["segments"]["tag"]}
    assert counts == {"tag:big-spender": 1, "tag:lapsing": 1, "tag:lost": 1, "tag:vip": 1}
    page = api.get("/api/v1/segments/tag:big-spender/members").json()
    assert [r["member"] for r in page["results"]] == [gone.external_id]
    assert api.get("/api/v1/segments/tag:nope/members").status_code == 404
    metrics = api.get("/api/v1/metrics?period=month&date=2026-06-01&segment=tag:vip")
    assert metrics.status_code == 200 and metrics.json()["segment"] == "tag:vip"


def test_a_rule_must_make_sense():
    with pytest.raises(ValidationError):
        Tag(code="x", name="x", rule_field="stage", rule_op="gte", rule_value="active").clean()
    with pytest.raises(ValidationError):
        Tag(code="x", name="x", rule_field="spend", rule_op="gte", rule_value="lots").clean()
    with pytest.raises(ValidationError):
        Tag(code="x", name="x", rule_value="5").clean()
    Tag(code="x", name="x", rule_field="loyalty_type", rule_op="eq", rule_value="advocate").clean()


def test_staff_attach_a_manual_tag_in_the_admin(client, member):
    client.force_login(get_user_model().objects.create_superuser("boss", "b@example.com", "pw"))
    vip = Tag.objects.create(code="vip", name="VIP")
    r = client.post("/admin/insight/membertag/add/", {"member": member.pk, "tag": vip.pk})
    assert r.status_code == 302
    assert MemberTag.objects.get().source == "manual"
