"""The dashboard's summary from the nightly snapshot plus what happened since: the outstanding points stay exact
(the sum of every account) through earns, redemptions, releases and expiry on the day of a snapshot and the day
after, with no snapshot at all, and for a ledger row that committed after the snapshot with a time before it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext

from insight.dashboard import program_summary
from insight.models import ChartSnapshot
from insight.services import chart_snapshots_take
from loyalty.models import Account, Transaction
from loyalty.services import points_settle_due
from members.models import Member
from tests import office
from tests.insight.test_dashboard import adjust

clerk, manager = office.clerk, office.manager  # fixtures

DAY = datetime(2026, 7, 2, tzinfo=UTC)  # the nightly snapshot runs at 02:00


def accounts() -> dict:
    return Account.objects.aggregate(available=Coalesce(Sum("available"), 0), pending=Coalesce(Sum("pending"), 0))


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def earn(api, member, order_id: str, amount: str) -> None:
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": amount,
                                    "currency": "EUR"})
    assert r.status_code == 201, r.json()


def redeem(api, member, points: int) -> None:
    r = api.post("/api/v1/redemptions", {"member": member.external_id, "points": points})
    assert r.status_code == 201, r.json()


def assert_exact() -> None:
    points = program_summary()["points"]
    assert points == accounts(), points
    assert points["available"] + points["pending"] == Transaction.objects.aggregate(n=Sum("points"))["n"]


@pytest.fixture
def pending_program(program):
    program.pending_days = 1  # pending points too, released by the settling job
    program.save()
    return program


@pytest.mark.django_db(transaction=True)  # the settling job commits its batches (its keys carry the transaction id)
def test_outstanding_points_are_exact_around_the_nightly_snapshot(api, pending_program, member_factory):
    a, b = member_factory(), member_factory()
    with at(DAY - timedelta(days=366)):
        earn(api, a, "A-old", "100.00")  # 10 points, expired from the snapshot's day on (not settled until then)
    with at(DAY - timedelta(days=10)):
        earn(api, a, "A-1", "80.00")
        earn(api, b, "B-1", "50.00")
    with at(DAY - timedelta(days=5)):
        points_settle_due()  # released
    with at(DAY + timedelta(hours=1)):
        earn(api, b, "B-2", "40.00")  # pending
        redeem(api, b, 3)
        assert not ChartSnapshot.objects.filter(key="summary").exists()
        assert_exact()  # no snapshot yet: counted live

    with at(DAY + timedelta(hours=2)):
        chart_snapshots_take()
        assert_exact()
    with at(DAY + timedelta(hours=1, minutes=30)):
        adjust(b, 7)  # written before the snapshot's moment, committed after it (within the overlap it re-reads)
    with at(DAY + timedelta(hours=10)):  # the day of the snapshot
        earn(api, a, "A-2", "60.00")
        redeem(api, b, 4)
        points_settle_due()  # A-old expires (or A-2's earn already settled it)
        assert Transaction.objects.filter(kind="expire", created_at__gte=DAY).exists()
        assert_exact()
    with at(DAY + timedelta(days=1, hours=9)):  # the day after, the next snapshot not taken yet
        points_settle_due()  # B-2 released
        assert Transaction.objects.filter(kind="release", created_at__gte=DAY + timedelta(days=1)).exists()
        redeem(api, a, 2)
        earn(api, b, "B-3", "30.00")
        assert_exact()
    with at(DAY + timedelta(days=2, hours=2)):
        chart_snapshots_take()
        redeem(api, b, 1)
        assert_exact()


def test_the_members_count_adds_registrations_and_status_changes_since_the_snapshot(member_factory):
    members = [member_factory() for _ in range(3)]
    with at(DAY + timedelta(hours=2)):
        chart_snapshots_take()
    Member.objects.filter(pk=members[0].pk).update(status=Member.Status.SUSPENDED)
    member_factory()
    assert program_summary()["members"] == {"all": 4, "active": 3}


def test_the_dashboard_with_its_summary_costs_the_same_queries_for_more_members(client, manager, member_factory):
    client.force_login(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/admin/dashboard/").status_code == 200
        return len(captured)

    for n in range(3):
        adjust(member_factory(), 5 + n)
    queries()  # the first request also reads what a process caches (settings rows)
    live = queries()  # before the first nightly run: the summary counted live
    chart_snapshots_take()
    queries()  # the snapshot's rows are read once more after the nightly run wrote them
    before = queries()
    for n in range(4):  # registered and earning after the snapshot
        adjust(member_factory(), 10 + n)
    assert queries() == before <= live <= 30
