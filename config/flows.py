"""The use cases that span apps, one function each, read top to bottom.

Each flow decides once which members it will touch, locks their ledger accounts at once in member-id order
(loyalty.locks, the one place that locks them), and then calls the apps' services, which assert that the
locks are held instead of taking them. The lock plan of every cross-app use case is therefore here:

| flow               | members locked                                   | then, in this order                      |
|--------------------|--------------------------------------------------|------------------------------------------|
| order_place        | the member, their referrer, the referrer's one   | order row (unique), referral row, the    |
|                    |                                                  | member's facts, campaigns with a points  |
|                    |                                                  | budget (id order)                        |
| orders_place_batch | every order's member and referral parties, at    | per order, in request order: its         |
|                    | once                                             | idempotency key, then as order_place     |
| order_refund       | the order's member, their referrer(s)            | order row, holds of the order, refunds,  |
|                    |                                                  | referral row and its rewards, the        |
|                    |                                                  | member's facts                           |
| hold_confirm       | the hold's member                                | the hold                                 |
| hold_release       | the hold's member                                | the hold, refunds its points are owed to |
| redemption_cancel  | the redemption's member                          | the redemption, its vouchers, the reward |
| member_sign_up     | (no points move: none)                           | referral graph (advisory lock)           |
| member_erase_...   | the member                                       | their referral rows, the member row      |

Flows run inside the request's transaction (core.idempotency.idempotent_write) or their own.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from campaigns import services as campaigns
from core.errors import Conflict
from core.idempotency import claims_take, idempotent_item
from insight import services as insight
from loyalty import locks
from loyalty import services as loyalty
from loyalty.models import Order, Refund
from members import services as members
from members.models import Member
from referrals import services as referrals
from referrals.exceptions import ReferralsErrorCode
from referrals.models import Referral
from rewards import services as rewards
from rewards.models import Redemption

from . import earn_set


@transaction.atomic(savepoint=False)
def order_place(*, member: Member, channel_id: int, order_id: str, amount: Decimal, currency: str,
                idempotency_key: str, lines: list[loyalty.LineInput] = (), store: str = "",
                occurred_at: datetime | None = None, payment_fingerprint: str = "") -> tuple[Order, Referral | None]:
    """Earn on an order; if it is the member's first qualifying order after a referral, the referral pays."""
    parties = referrals.referral_parties(member_id=member.pk)
    held, new = locks.locked_ids(), set(parties) - locks.locked_ids()
    if held and new and min(new) < max(held):
        # Inside a batch that locked its members up front: a referral attached since names a member it did not lock,
        # and locking them now could break the lock order. This order is refused; sent again, it locks them first.
        raise Conflict("The member's referral changed while this request ran; send it again.",
                       code=ReferralsErrorCode.REFERRAL_CHANGED)
    with locks.members_locked(parties):
        order = loyalty.order_earn(member=member, channel_id=channel_id, order_id=order_id, amount=amount,
                                   currency=currency, idempotency_key=idempotency_key, store=store,
                                   occurred_at=occurred_at, lines=lines)
        referral = referrals.referral_qualify(order=order, channel_id=channel_id,
                                              payment_fingerprint=payment_fingerprint, parties=parties)
        insight.member_facts_record_order(order=order, categories=[line.category for line in lines])
        campaigns.order_campaigns_apply(order=order, channel_id=channel_id)
        campaigns.challenges_record_order(member_id=member.pk, occurred_at=order.occurred_at, now=timezone.now())
    return order, referral


@dataclass
class BatchItem:
    """One write of a batch: its own idempotency key and fingerprint, and what to do (None: refused up front, with
    `refused` = (status, error body)); `data`, the parsed order, for the set-based earn."""

    key: str
    digest: str
    member: Member | None
    perform: Callable[[], tuple[int, dict]] | None = None
    refused: tuple[int, dict] | None = None
    data: dict | None = None


@transaction.atomic(durable=True)
def orders_place_batch(*, channel_id: int, items: Sequence[BatchItem]) -> list[tuple[int, dict, bool]]:
    """Place a batch of orders (a point of sale's end-of-day sync): every member the batch may touch (each order's
    member and referral parties) locked at once in member-id order by the set-based earn's one read, the orders'
    keys claimed in one statement, the orders it covers placed in one write (config.earn_set); then each other order,
    in request order, exactly once by its own key in its own savepoint (each `perform` runs `order_place`, which finds
    its locks held). One refused order rolls back alone. Returns (status, body, replayed) per item.

    Each member's orders keep their request order: once an order of a member (or an order id) goes the general way,
    every later one of them does too, and so do the orders of referrers once a referred member's order did."""
    live = [item for item in items if item.perform is not None]
    ctx = earn_set.context(channel_id)
    read = earn_set.earn_read(channel_id=channel_id, external_ids=[i.data["member"] for i in live],
                              order_ids=[i.data["order_id"] for i in live], keys=[i.key for i in live],
                              n=len(live), now=ctx.now, settings=ctx.settings)
    parties = referrals.referral_parties_of(member_ids={i.member.pk for i in live})
    missing = parties - set(read.accounts)
    if missing:  # a referral attached since the read: every order goes the general way, all locked at once (rare)
        locks.accounts_create(missing)
        read.accounts = {}
    first = {}
    for item in live:
        first.setdefault(item.key, item)
    claimed = claims_take(channel_id=channel_id, keys=[(k, i.digest) for k, i in first.items()]) \
        if read.accounts else None
    results: dict[int, tuple[int, dict, bool]] = {}
    with locks.accounts_held(read.accounts):
        general, placed, release = [], [], []
        members_general, orders_general, orders_placed, referrers_general = set(), set(), set(), False
        for item in live:
            data, n = item.data, len(placed)
            fast = None
            if (claimed is not None and item.key in claimed and first[item.key] is item
                    and item.member.pk not in members_general and data["order_id"] not in orders_general
                    and data["order_id"] not in orders_placed
                    and not (referrers_general and item.member.pk in read.referrers)):
                fast = earn_set.earn_one(ctx, read, key=item.key, data=data,
                                         ids=(read.ids[0][n], read.ids[1][n], read.ids[2][n]))
            if fast is None:
                general.append(item)
                if claimed is not None and (item.key not in claimed or first[item.key] is not item):
                    continue  # claimed before: a replay or a refusal, which writes nothing
                if claimed is not None:
                    release.append(item.key)
                members_general.add(item.member.pk)
                orders_general.add(data["order_id"])
                referrers_general |= bool(read.members.get(data["member"]) and read.members[data["member"]].referred)
                continue
            placed.append(fast)
            orders_placed.add(data["order_id"])
            results[id(item)] = (201, fast.body, False)
        if placed or release:
            earn_set.earn_write(ctx, placed, read.accounts, release=release, statuses=read.statuses)
        elif general:
            earn_set.plans_back()
        with locks.members_locked([] if read.accounts else parties):
            for item in general:
                status, body, replayed = idempotent_item(channel_id=channel_id, key=item.key, digest=item.digest,
                                                         perform=item.perform)
                if status >= 400:
                    # Rolled back to its savepoint: what the ledger holds in memory for these members is stale.
                    locks.accounts_reload(referrals.referral_parties(member_id=item.member.pk))
                    item.member.refresh_from_db()
                results[id(item)] = (status, body, replayed)
    return [(*item.refused, False) if item.perform is None else results[id(item)] for item in items]


@dataclass
class RefundOutcome:
    refund: Refund
    points_returned: int
    referral: dict | None


@transaction.atomic(savepoint=False)
def order_refund(*, channel_id: int, order_id: str, amount: Decimal | None, idempotency_key: str,
                 lines: list[tuple[str, Decimal]] = (), reason: str = "") -> RefundOutcome:
    """Refund (part of) an order: the points that paid for it come back first, then what it earned is taken
    back (so the returned points cover what the member spent before any shortfall is recorded), then the
    referral it qualified is reversed if it no longer qualifies."""
    order = loyalty.order_get(channel_id=channel_id, order_id=order_id)
    with locks.members_locked(referrals.referral_parties(member_id=order.member_id)):
        order = loyalty.order_lock(order=order)
        amount = loyalty.refund_amount_validate(order=order, amount=amount, lines=list(lines))
        returned = rewards.order_paid_points_return(order=order, refunded_total=order.refunded_amount + amount,
                                                    idempotency_key=idempotency_key)
        refund = loyalty.order_points_take_back(order=order, amount=amount, channel_id=channel_id,
                                                idempotency_key=idempotency_key, lines=lines, reason=reason)
        referral = referrals.referral_reverse_if_unqualified(order=order, channel_id=channel_id)
        insight.member_facts_record_refund(order=order, refund=refund)
    return RefundOutcome(refund=refund, points_returned=returned, referral=referral)


def _member_of(redemption_id: int, channel_id: int) -> list[int]:
    return [rewards.redemption_get(redemption_id=redemption_id, channel_id=channel_id).member_id]


@transaction.atomic(savepoint=False)
def hold_confirm(*, hold_id: int, channel_id: int) -> Redemption:
    """The order was placed: the held points are spent for good."""
    with locks.members_locked(_member_of(hold_id, channel_id)):
        return rewards.checkout_confirm(hold_id=hold_id, channel_id=channel_id)


@transaction.atomic(savepoint=False)
def hold_release(*, hold_id: int, channel_id: int, idempotency_key: str) -> Redemption:
    """The order was abandoned: the held points come back (first to any refund they are owed to)."""
    with locks.members_locked(_member_of(hold_id, channel_id)):
        return rewards.checkout_release(hold_id=hold_id, channel_id=channel_id, idempotency_key=idempotency_key)


@transaction.atomic(savepoint=False)
def redemption_cancel(*, redemption_id: int, channel_id: int, idempotency_key: str, reason: str = "",
                      actor=None) -> Redemption:
    """Give a redemption's points back (first to any refund they are owed to), void its vouchers, restock."""
    with locks.members_locked(_member_of(redemption_id, channel_id)):
        return rewards.redemption_reverse(redemption_id=redemption_id, channel_id=channel_id,
                                         idempotency_key=idempotency_key, reason=reason, actor=actor)


@transaction.atomic(savepoint=False)
def member_sign_up(*, referral_code: str = "", device_id: str = "", ip: str | None = None,
                    **member_fields) -> tuple[Member, str, Referral | None]:
    """Register a member with their own referral code, and attach the code they came with, if any."""
    member = members.member_register(**member_fields)
    own_code = referrals.referral_code_ensure(member=member).code
    referral = None
    if referral_code:
        referral = referrals.referral_attach(member=member, code=referral_code, device_id=device_id, ip=ip)
    return member, own_code, referral


@transaction.atomic(savepoint=False)
def member_erase_everywhere(*, member: Member, reason: str, actor, channel_id: int | None) -> Member:
    """Erase a member's personal data in every app (GDPR), the ledger and the audit trail left whole: each app
    pseudonymises its own through its own service; `members` last, as it closes the membership and audits it.
    The member's ledger lock keeps an order or redemption from running alongside."""
    with locks.members_locked([member.pk]):
        referrals.referrals_personal_erase(member=member)
        return members.member_erase(member=member, reason=reason, actor=actor, channel_id=channel_id)
