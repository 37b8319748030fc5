"""Bulk awards: one reason, many members, a job in batches that pays each member once however often it runs."""

import pytest
from django.db import connection

from core.models import Channel, Scope
from insight.models import MemberSegment
from loyalty import services
from loyalty.models import Account, BulkAdjustment, Transaction
from loyalty.services import adjusting
from loyalty.services.ledger import channel_id
from members.models import Member
from tests.conftest import make_client

URL = "/api/v1/adjustments/bulk"


@pytest.fixture
def crowd(member_factory):
    return [member_factory() for _ in range(5)]


def balances(members) -> list[int]:
    found = dict(Account.objects.filter(member__in=members).values_list("member_id", "available"))
    return [found.get(m.pk, 0) for m in members]


def test_a_list_of_members_gets_the_points_once_and_the_progress_says_so(api, crowd, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(URL, {"members": [m.external_id for m in crowd], "points": 50, "reason": "Store reopening"})
    assert r.status_code == 202, r.content
    assert r.json()["total"] == 5
    progress = api.get(f"{URL}/{r.json()['id']}").json()
    assert (progress["status"], progress["done"], progress["skipped"]) == ("done", 5, 0)
    assert balances(crowd) == [50] * 5
    assert set(Transaction.objects.filter(kind="adjust").values_list("reason", flat=True)) == {"Store reopening"}
    # the job run again (a redelivered message): nobody is paid twice
    services.bulk_adjustment_run(bulk_id=r.json()["id"])
    assert balances(crowd) == [50] * 5 and Transaction.objects.count() == 5


def test_a_segment_is_adjusted_in_batches_and_a_debit_skips_who_lacks_the_points(api, crowd, django_capture_on_commit_callbacks):
    rich, poor = crowd[:3], crowd[3:]
    for m in rich:
        services.points_adjust(member=m, points=30, reason="start", channel_id=channel_id("admin"),
                               idempotency_key=f"start-{m.pk}")
    now = "2026-11-01T00:00:00Z"
    MemberSegment.objects.bulk_create([MemberSegment(member=m, stage="dormant", stage_since=now, value_tier="low",
                                                     loyalty_type="none", computed_on=now) for m in crowd])
    bulk = services.bulk_adjustment_create(points=-20, reason="Correction", source="stage:dormant",
                                           member_ids=MemberSegment.objects.filter(stage="dormant").values("member_id"),
                                           channel_id=channel_id("admin"))
    done = services.bulk_adjustment_run(bulk_id=bulk.pk, batch=2)
    assert (done.total, done.done, done.skipped, done.status) == (5, 3, 2, "done")
    assert balances(rich) == [10] * 3 and balances(poor) == [0, 0]
    assert sorted(done.items.values_list("note", flat=True)) == ["", "", "", "insufficient_points", "insufficient_points"]


def test_a_crash_between_batches_is_finished_by_the_rerun(crowd):
    bulk = services.bulk_adjustment_create(points=7, reason="Apology", source="5 listed",
                                           member_ids=Member.objects.filter(pk__in=[m.pk for m in crowd]).values("pk"),
                                           channel_id=channel_id("admin"))
    assert adjusting._bulk_batch_run(bulk_id=bulk.pk, batch=2) == 2  # one batch committed, then the worker died
    assert BulkAdjustment.objects.get(pk=bulk.pk).done == 2
    finished = services.bulk_adjustment_run(bulk_id=bulk.pk, batch=2)
    assert (finished.done, finished.status) == (5, "done")
    assert balances(crowd) == [7] * 5


@pytest.mark.parametrize("body, status, code", [
    ({"members": ["nobody"], "points": 5, "reason": "x"}, 404, "member_not_found"),
    ({"segment": "stage:nonsense", "points": 5, "reason": "x"}, 404, "not_found"),
    ({"points": 5, "reason": "x"}, 422, "bulk_adjustment_empty"),
    ({"members": [], "segment": "", "points": 5, "reason": "x"}, 422, "bulk_adjustment_empty"),
])
def test_bad_requests_change_nothing(api, crowd, body, status, code):
    r = api.post(URL, body)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)
    assert not BulkAdjustment.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM loyalty_bulkadjustmentitem")
        assert cursor.fetchone()[0] == 0


def test_another_channel_cannot_read_the_progress(api, crowd):
    r = api.post(URL, {"members": [crowd[0].external_id], "points": 5, "reason": "x"})
    other = make_client(Channel.named("other-shop"), scopes=[Scope.POINTS_ADJUST])
    assert other.get(f"{URL}/{r.json()['id']}").status_code == 404
