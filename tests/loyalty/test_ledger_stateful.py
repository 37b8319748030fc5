"""Random sequences of earn, redeem, refund, cancel, adjust and the passing of time, driven through the
services against PostgreSQL, with the ledger's invariants checked after every step.

Beside the database runs a small reference model of each member's lots (what the rules in DESIGN say should
happen: first-expiring-first spending, refunds from the order's own lot first, expiry of what remains).
After every step the accounts, the lots and the per-kind totals must agree with it, and
available + pending == earned - refunded - redeemed + cancelled + adjusted - expired.
"""

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from config import flows
from core.errors import ApplicationError
from core.models import Channel
from loyalty import services
from loyalty.models import Account, Lot, ProgramSettings, Transaction
from loyalty.services.rules import add_months, end_of_local_day
from members.models import Member
from rewards import services as rewards
from tests.factories import MemberFactory
from tests.loyalty.invariants import assert_ledger_balanced

START = datetime(2031, 1, 1, 9, 0, tzinfo=UTC)
_lot_keys = itertools.count()


@dataclass
class ModelLot:
    key: int  # creation order, as the lots' ids are
    order_id: str | None
    amount: int
    remaining: int
    released: bool
    available_at: datetime
    expires_at: datetime
    expired: int = 0


@dataclass
class ModelOrder:
    order_id: str
    member: int
    cents: int
    points: int
    refunded_cents: int = 0
    reversed: int = 0
    expired_counted: int = 0  # of its lot's expired points, what refunds have already written off
    shortfall: int = 0
    recovered: int = 0
    written_off: int = 0
    substituted: list = field(default_factory=list)  # (lot, points) refunds took from other lots, in order
    restored: int = 0


@dataclass
class ModelRedemption:
    pk: int
    member: int
    points: int
    taken: list[tuple[ModelLot, int]]
    cancelled: bool = False


@dataclass
class ModelMember:
    pk: int
    lots: list[ModelLot] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ["earn", "refund", "redeem", "redeem_cancel", "adjust", "expire"], 0))

    @property
    def available(self) -> int:
        return sum(lot.remaining for lot in self.lots if lot.released)

    @property
    def pending(self) -> int:
        return sum(lot.remaining for lot in self.lots if not lot.released)

    def settle(self, now: datetime) -> None:
        for lot in self.lots:
            if lot.remaining and lot.expires_at <= now:
                self.totals["expire"] += lot.remaining
                lot.expired += lot.remaining
                lot.remaining = 0
            elif lot.remaining and not lot.released and lot.available_at <= now:
                lot.released = True

    def spendable(self, now: datetime, exclude_order: str | None = None) -> list[ModelLot]:
        lots = [lot for lot in self.lots if lot.released and lot.remaining and lot.expires_at > now
                and (exclude_order is None or lot.order_id != exclude_order)]
        return sorted(lots, key=lambda lot: (lot.expires_at, lot.key))

    @staticmethod
    def take(lots: list[ModelLot], points: int) -> list[tuple[ModelLot, int]]:
        taken = []
        for lot in lots:
            if points <= 0:
                break
            take = min(lot.remaining, points)
            lot.remaining -= take
            points -= take
            taken.append((lot, take))
        return taken


def cents_to_amount(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


class LedgerMachine(RuleBasedStateMachine):
    """One example: a fresh program configuration, one or two fresh members, a clock that only moves on."""

    # Carried over between examples, so that time does not run backwards for earlier examples' lots either
    # (harmless if it did: they are only checked for balance). Wrapped long before datetime's year 9999.
    clock = START

    def __init__(self):
        super().__init__()
        LedgerMachine.clock += timedelta(days=1)
        if LedgerMachine.clock.year > 3000:
            LedgerMachine.clock = START
        self.now = LedgerMachine.clock
        self.traveller = time_machine.travel(self.now, tick=False)
        self.coordinates = self.traveller.start()
        self.channel_id = Channel.named("webshop").pk
        self.members: list[ModelMember] = []
        self.orders: list[ModelOrder] = []
        self.redemptions: list[ModelRedemption] = []
        self.pending_days = 0
        self.expiry_months = 12

    def teardown(self):
        self.traveller.stop()

    # -- helpers ---------------------------------------------------------------------------------------------

    def key(self) -> str:
        return uuid.uuid4().hex

    def member(self, who: int) -> ModelMember:
        return self.members[who % len(self.members)]

    def db_member(self, model: ModelMember) -> Member:
        return Member.objects.get(pk=model.pk)

    def snapshot(self, model: ModelMember):
        account = Account.objects.filter(member_id=model.pk).values_list("available", "pending").first()
        lots = list(Lot.objects.filter(member_id=model.pk).order_by("id").values_list("remaining", "released"))
        return account, Transaction.objects.filter(member_id=model.pk).count(), lots

    def refused(self, call, model: ModelMember, code: str) -> None:
        """`call` must be refused with `code` and change nothing."""
        before = self.snapshot(model)
        try:
            call()
        except ApplicationError as exc:
            assert exc.code == code, exc.message
        else:
            raise AssertionError(f"expected a refusal with {code}")
        assert self.snapshot(model) == before

    def new_lot(self, model: ModelMember, points: int, order_id: str | None, pending_days: int) -> None:
        available_at = self.now + timedelta(days=pending_days)
        model.lots.append(ModelLot(key=next(_lot_keys), order_id=order_id, amount=points, remaining=points,
                                   released=available_at <= self.now, available_at=available_at,
                                   # at the end of the day, N months on, in the member's time zone (UTC here)
                                   expires_at=end_of_local_day(add_months(self.now.date(), self.expiry_months), UTC)))

    # -- rules -----------------------------------------------------------------------------------------------

    @initialize(pending_days=st.sampled_from([0, 0, 7, 30]), expiry_months=st.sampled_from([1, 3, 12]),
                count=st.integers(1, 2))
    def configure(self, pending_days, expiry_months, count):
        program = ProgramSettings.current()
        program.currency, program.earn_points, program.earn_amount = "EUR", 1, Decimal("10.00")
        program.rounding, program.pending_days = ProgramSettings.Rounding.DOWN, pending_days
        program.expiry_policy = ProgramSettings.ExpiryPolicy.MONTHS_AFTER_EARNING
        program.expiry_months = expiry_months
        program.save()
        self.pending_days, self.expiry_months = pending_days, expiry_months
        self.members = [ModelMember(pk=MemberFactory().pk) for _ in range(count)]

    # Order amounts up to 1,500.00, spread evenly (plain integers would mostly be tiny orders earning nothing).
    @rule(who=st.integers(0, 1), euros=st.sampled_from(range(1501)), extra_cents=st.integers(0, 99))
    def earn(self, who, euros, extra_cents):
        cents = euros * 100 + extra_cents
        model = self.member(who)
        order_id = f"O-{uuid.uuid4().hex[:12]}"
        order, _ = flows.order_place(member=self.db_member(model), channel_id=self.channel_id, order_id=order_id,
                                    amount=cents_to_amount(cents), currency="EUR", idempotency_key=self.key())
        model.settle(self.now)
        points = cents // 1000
        assert order.points_earned == points
        if points:
            self.new_lot(model, points, order_id, self.pending_days)
            model.totals["earn"] += points
        self.orders.append(ModelOrder(order_id=order_id, member=model.pk, cents=cents, points=points))

    @rule(who=st.integers(0, 1), data=st.data())
    def redeem(self, who, data):
        model = self.member(who)
        model.settle(self.now)
        points = data.draw(st.integers(1, max(1, model.available)) | st.integers(model.available + 1, model.available + 50),
                           label="points")  # half the time, more than there is
        call = lambda: rewards.redemption_create(member=self.db_member(model), points=points,  # noqa: E731
                                                 channel_id=self.channel_id, idempotency_key=self.key())
        if points > model.available:
            event("redeem: refused")
            self.refused(call, model, "insufficient_points")
            return
        redemption = call()
        taken = model.take(model.spendable(self.now), points)
        model.totals["redeem"] += points
        self.redemptions.append(ModelRedemption(pk=redemption.pk, member=model.pk, points=points, taken=taken))

    @precondition(lambda self: self.redemptions)
    @rule(data=st.data())
    def cancel(self, data):
        redemption = data.draw(st.sampled_from(self.redemptions), label="redemption")
        model = next(m for m in self.members if m.pk == redemption.member)
        call = lambda: flows.redemption_cancel(redemption_id=redemption.pk,  # noqa: E731
                                               channel_id=self.channel_id, idempotency_key=self.key())
        if redemption.cancelled:
            self.refused(call, model, "redemption_not_cancellable")
            return
        assert call().status == "cancelled"
        redemption.cancelled = True
        model.settle(self.now)  # what is due is settled before any point comes back
        queue = list(redemption.taken)
        while queue:
            lot, points = queue.pop(0)
            left = points
            order = next((o for o in self.orders if o.order_id == lot.order_id), None)
            if order is not None:
                # A refunded order's lot first covers its refunds' shortfall (written off if the lot expired) ...
                part = min(left, order.shortfall - order.recovered - order.written_off)
                if part > 0:
                    expired_lot = lot.expires_at <= self.now
                    event("cancel: shortfall " + ("written off" if expired_lot else "recovered"))
                    if expired_lot:
                        order.written_off += part
                    else:
                        order.recovered += part
                    left -= part
                # ... then goes back to the other lots its refunds took from, in the order they took them, each of
                # which settles what its own order's refunds are owed in turn.
                part = min(left, sum(p for _, p in order.substituted) - order.restored)
                if part > 0:
                    event("cancel: restored to the lots a refund used")
                    skip, give = order.restored, part
                    for other, took in order.substituted:
                        already = min(skip, took)
                        skip -= already
                        back = min(took - already, give)
                        if back > 0:
                            queue.append((other, back))
                        give -= back
                    order.restored += part
                    left -= part
            lot.remaining += left
            model.totals["redeem_cancel"] += left
        expired = model.totals["expire"]
        model.settle(self.now)  # what expired meanwhile expires again at once
        if model.totals["expire"] > expired:
            event("cancel: points given back expired again")

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), whole=st.booleans())
    def refund(self, data, whole):
        order = data.draw(st.sampled_from(self.orders), label="order")
        model = next(m for m in self.members if m.pk == order.member)
        left = order.cents - order.refunded_cents
        cents = left if whole and left else data.draw(st.integers(1, max(1, order.cents * 6 // 5)), label="cents")
        call = lambda: flows.order_refund(channel_id=self.channel_id, order_id=order.order_id,  # noqa: E731
                                          amount=cents_to_amount(cents), idempotency_key=self.key()).refund
        if cents > left:
            event("refund: refused")
            self.refused(call, model, "refund_exceeds_order")
            return
        refund = call()
        model.settle(self.now)
        if order.refunded_cents + cents >= order.cents:
            due = order.points - order.reversed
        else:
            target = order.points * (order.refunded_cents + cents) // order.cents
            due = max(0, min(order.points - order.reversed, target - order.reversed))
        # The order's own lot first; what it no longer holds had expired (written off, nothing to take) or was
        # spent (taken from the member's other spendable points; what they cannot cover is the shortfall).
        own = [lot for lot in model.lots if lot.order_id == order.order_id]
        taken = own_taken = sum(p for _, p in model.take([lot for lot in own if lot.remaining], due))
        expired = min(due - own_taken, max(0, sum(lot.expired for lot in own) - order.expired_counted))
        substituted = model.take(model.spendable(self.now, exclude_order=order.order_id), due - taken - expired)
        order.substituted += substituted
        taken += sum(p for _, p in substituted)
        shortfall = due - taken - expired
        assert (refund.points_due, refund.points_taken, refund.shortfall, refund.points_expired) == (
            due, taken, shortfall, expired)
        event("refund: " + ("shortfall" if shortfall else "expired part" if expired
                            else "from other lots" if due > own_taken else "from own lot"))
        order.refunded_cents += cents
        order.reversed += due
        order.expired_counted += expired
        order.shortfall += shortfall
        model.totals["refund"] += taken

    @rule(who=st.integers(0, 1), points=st.integers(-150, 150).filter(bool))
    def adjust(self, who, points):
        model = self.member(who)
        model.settle(self.now)
        call = lambda: services.points_adjust(member=self.db_member(model), points=points,  # noqa: E731
                                              reason="stateful test", channel_id=self.channel_id,
                                              idempotency_key=self.key())
        if -points > model.available:
            self.refused(call, model, "insufficient_points")
            return
        call()
        if points > 0:
            self.new_lot(model, points, None, pending_days=0)
        else:
            model.take(model.spendable(self.now), -points)
        model.totals["adjust"] += points

    @rule(days=st.integers(0, 200), hours=st.integers(0, 23))
    def time_passes(self, days, hours):
        self.now += timedelta(days=days, hours=hours)
        LedgerMachine.clock = max(LedgerMachine.clock, self.now)
        self.coordinates.move_to(self.now)
        services.points_settle_due(now=self.now)
        for model in self.members:
            expired, pending = model.totals["expire"], model.pending
            model.settle(self.now)
            if model.totals["expire"] > expired:
                event("time: points expired")
            if model.pending < pending:
                event("time: pending points released")

    # -- invariants ------------------------------------------------------------------------------------------

    @invariant()
    def ledger_is_balanced(self):
        assert_ledger_balanced()

    @invariant()
    def database_agrees_with_the_model(self):
        for model in self.members:
            account = Account.objects.filter(member_id=model.pk).values_list("available", "pending").first()
            available, pending = account or (0, 0)
            assert available >= 0 and pending >= 0
            assert (available, pending) == (model.available, model.pending)
            lots = list(Lot.objects.filter(member_id=model.pk).order_by("id").values_list(
                "amount", "remaining", "released"))
            assert lots == [(lot.amount, lot.remaining, lot.released) for lot in model.lots]

    @invariant()
    def balance_is_what_was_earned_less_what_went(self):
        for model in self.members:
            by_kind = dict(Transaction.objects.filter(member_id=model.pk).values("kind").order_by("kind")
                           .annotate(points=Sum("points")).values_list("kind", "points"))
            signed = {"earn": 1, "refund": -1, "redeem": -1, "redeem_cancel": 1, "adjust": 1, "expire": -1}
            assert {kind: by_kind.get(kind, 0) for kind in signed} == {
                kind: sign * model.totals[kind] for kind, sign in signed.items()}
            assert by_kind.get("release", 0) == 0
            assert set(by_kind) <= {*signed, "release"}
            t = model.totals
            expected = t["earn"] - t["refund"] - t["redeem"] + t["redeem_cancel"] + t["adjust"] - t["expire"]
            assert model.available + model.pending == expected


@pytest.mark.django_db(transaction=True)
def test_the_ledger_stays_balanced_through_random_histories():
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=25, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    ))
