"""Referrals: attaching a code, qualifying on the first order, paying, taking back, staff review.

Locking: every transaction that pays or takes back referral points holds the ledger locks of all the members
concerned (referred, referrer, the referrer's referrer), taken at once in member-id order through loyalty.locks
before anything else: by the flow that places or refunds an order (config.flows, which asks `referral_parties`
whom to lock), or by staff review here; then the referral rows. Under the referrer's lock their count of
successful referrals (the tier step) and their caps are read, so two qualifying orders at once see each other.
`ReferralReward` is unique per (referral, role): a second payout is refused by the database whatever happens.
"""

from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.db import connection, transaction
from django.utils import timezone

from core.db import one_or_none
from core.errors import BusinessRuleError, Conflict, NotFound
from core.models import Channel
from core.services import audit_record
from loyalty import locks
from loyalty import services as loyalty
from loyalty.models import Lot, Order, ProgramSettings
from loyalty.services.ledger import channel_id as our_channel
from loyalty.services.rules import available_from
from members.models import Member

from ..exceptions import ReferralsErrorCode
from ..models import PaymentFingerprint, Program, ProgramStep, Referral, ReferralReward
from . import fraud
from .codes import referral_code_find

OPEN = (Referral.Status.PENDING, Referral.Status.HELD)
SUCCESSFUL = (Referral.Status.QUALIFIED, Referral.Status.REWARDED)
MAX_CHAIN = 10_000  # a referral chain has no loops; this only bounds a walk over corrupt data
_GRAPH_LOCK = 0x5EFE  # advisory lock key: attaches are serialised, so two at once cannot close a loop


def program_active() -> Program | None:
    return one_or_none(Program.objects.filter(active=True))


@transaction.atomic(durable=True)
def program_activate(*, program_id: int, actor) -> Program:
    """Make this program the one active program, switching atomically, in the audit log. Every program row is locked
    first, so two managers switching at once queue instead of failing on the one-active constraint."""
    previous = [p.pk for p in Program.objects.select_for_update().order_by("pk") if p.active]
    Program.objects.filter(active=True).exclude(pk=program_id).update(active=False)
    Program.objects.filter(pk=program_id).update(active=True)
    audit_record(action="referral_program.activate", target_type="referral_program", target_id=program_id,
                 actor=actor, details={"previous": previous, "new": program_id})
    return Program.objects.get(pk=program_id)


def reward_for(program: Program, ordinal: int) -> int:
    """The referrer's reward for their `ordinal`-th successful referral."""
    if program.kind == Program.Kind.SINGLE_TIER:
        return program.referrer_points
    step = ProgramStep.objects.filter(program=program, from_count__lte=ordinal).order_by("-from_count").first()
    return step.points if step else 0


def _ancestors(member_id: int) -> list[int]:
    """The member's referrer, their referrer, ... up the chain."""
    chain: list[int] = []
    current = member_id
    for _ in range(MAX_CHAIN):
        current = Referral.objects.filter(referred_id=current).values_list("referrer_id", flat=True).first()
        if current is None or current in chain:
            break
        chain.append(current)
    return chain


@transaction.atomic(savepoint=False)
def referral_attach(*, member: Member, code: str, device_id: str = "", ip: str | None = None,
                    now: datetime | None = None) -> Referral:
    """Record that `member` was referred by the owner of `code`: at sign-up or within the program's
    attach_days of joining, once. Suspicious referrals are recorded held for review, with their reasons."""
    now = now or timezone.now()
    program = program_active()
    if program is None:
        raise BusinessRuleError("No referral program is running.", code=ReferralsErrorCode.REFERRAL_PROGRAM_INACTIVE)
    found = referral_code_find(code=code)
    referrer = found.member
    if referrer.pk == member.pk:
        raise BusinessRuleError("A member cannot use their own referral code.", code=ReferralsErrorCode.REFERRAL_SELF,
                                fields={"referral_code": ["Your own code."]})
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_GRAPH_LOCK])
    if Referral.objects.filter(referred_id=member.pk).exists():
        raise Conflict("This member already has a referral code attached.", code=ReferralsErrorCode.REFERRAL_EXISTS)
    if now > member.joined_at + timedelta(days=program.attach_days):
        raise BusinessRuleError(f"A referral code can only be attached within {program.attach_days} days of "
                                "joining.", code=ReferralsErrorCode.REFERRAL_ATTACH_WINDOW_OVER)
    if member.pk in _ancestors(referrer.pk):
        raise BusinessRuleError("A member cannot be referred by someone they referred.", code=ReferralsErrorCode.REFERRAL_LOOP,
                                fields={"referral_code": ["Would make a referral loop."]})
    reasons = fraud.attach_reasons(program=program, referrer=referrer, member=member, code=found.code,
                                   device_id=device_id, ip=ip, now=now)
    return Referral.objects.create(
        referrer=referrer, referred=member, program=program, code=found.code, device_id=device_id or "", ip=ip,
        status=Referral.Status.HELD if reasons else Referral.Status.PENDING, reasons=reasons, created_at=now,
    )


def _parties(referral: Referral) -> list[int]:
    ids = [referral.referred_id, referral.referrer_id]
    grand = Referral.objects.filter(referred_id=referral.referrer_id).values_list("referrer_id", flat=True).first()
    if grand is not None:
        ids.append(grand)
    return ids


def referral_parties(*, member_id: int) -> list[int]:
    """Whom an order or a refund of this member may pay or take referral points from (the member, their
    referrer and the referrer's referrer), for the caller to lock first. Reads only."""
    referral = one_or_none(Referral.objects.filter(referred_id=member_id).exclude(
        status__in=[Referral.Status.REJECTED, Referral.Status.REVERSED]))
    return _parties(referral) if referral is not None else [member_id]


def referral_parties_of(*, member_ids: set[int]) -> set[int]:
    """`referral_parties` of many members at once (a batch of orders), in two queries: the members, their
    referrers and those referrers' referrers. Reads only."""
    referrers = set(Referral.objects.filter(referred_id__in=member_ids).exclude(
        status__in=[Referral.Status.REJECTED, Referral.Status.REVERSED]).values_list("referrer_id", flat=True))
    grand = set(Referral.objects.filter(referred_id__in=referrers).values_list("referrer_id", flat=True)) \
        if referrers else set()
    return set(member_ids) | referrers | grand


def _assert_parties_locked(referral: Referral) -> None:
    """The caller locked `referral_parties` before it took its locks; a referral attached (or a referrer's own
    referrer found) in between names members it did not lock. Locking them now could break the lock order, so
    the request is refused as a conflict and rolls back whole: sent again, it locks the right members."""
    missing = set(_parties(referral)) - locks.locked_ids()
    if missing:
        raise Conflict("The member's referral changed while this request ran; send it again.",
                       code=ReferralsErrorCode.REFERRAL_CHANGED)


def _available_at(order: Order) -> datetime:
    lot = Lot.objects.filter(order=order).order_by("id").first()
    return lot.available_at if lot else available_from(ProgramSettings.current(), order.occurred_at)


def _bonus(referral: Referral, role: str, member_id: int, points: int, channel_id: int, now: datetime,
           available_at: datetime, what: str) -> ReferralReward:
    txn = loyalty.points_bonus(
        # Our own entries, on our system channel under keys no shop can send there: exactly once per role,
        # whichever channel (an order, a staff approval) triggers the payout.
        member=Member(pk=member_id), points=points, channel_id=our_channel("system"),
        idempotency_key=f"referral:{referral.pk}:{role}", reason=what, reference=f"referral:{referral.pk}",
        available_at=available_at, details={"referral": referral.pk, "role": role, "ordinal": referral.ordinal},
    )
    return ReferralReward.objects.create(referral=referral, role=role, member_id=member_id, points=points,
                                         transaction=txn, created_at=now)


def _cap_reached(program: Program, referrer_id: int, now: datetime) -> str | None:
    paid = ReferralReward.objects.filter(member_id=referrer_id, role=ReferralReward.Role.REFERRER,
                                         revoke_transaction__isnull=True)
    if program.total_cap is not None and paid.count() >= program.total_cap:
        return "total_cap"
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if program.monthly_cap is not None and paid.filter(created_at__gte=month_start).count() >= program.monthly_cap:
        return "monthly_cap"
    return None


def _pay(referral: Referral, *, channel_id: int, now: datetime) -> Referral:
    """Pay a qualified referral: the referrer (tier step, caps), the welcome, the second level. The caller holds
    the parties' ledger locks and the referral's row lock."""
    program = referral.program
    locks.account_locked(referral.referrer_id)
    # The referrer's referrals, locked after their account: the count below is the one every payer sees.
    earlier = list(Referral.objects.select_for_update().filter(referrer_id=referral.referrer_id)
                   .exclude(pk=referral.pk).filter(status__in=SUCCESSFUL).order_by("pk").values_list("pk", flat=True))
    referral.ordinal = len(earlier) + 1
    available_at = _available_at(referral.order)
    referrer = Member.objects.get(pk=referral.referrer_id)
    points = reward_for(program, referral.ordinal)
    why = _cap_reached(program, referrer.pk, now) or (None if referrer.is_active else "referrer_inactive")
    paid_referrer = 0
    if why:
        referral.reasons = [*referral.reasons, why]
    elif points > 0:
        _bonus(referral, ReferralReward.Role.REFERRER, referrer.pk, points, channel_id, now, available_at,
               f"Referral reward: {referral.referred.external_id} joined (referral #{referral.ordinal})")
        paid_referrer = points
    if program.welcome_points > 0:
        _bonus(referral, ReferralReward.Role.WELCOME, referral.referred_id, program.welcome_points, channel_id, now,
               available_at, f"Welcome reward: joined with {referrer.external_id}'s code")
    if program.second_level and paid_referrer:
        upper = one_or_none(Referral.objects.filter(referred_id=referrer.pk, status__in=SUCCESSFUL))
        share = int((Decimal(paid_referrer) * program.second_level_percent / 100).to_integral_value(ROUND_FLOOR))
        upper_active = upper is not None and Member.objects.filter(pk=upper.referrer_id,
                                                                   status=Member.Status.ACTIVE).exists()
        if upper_active and share > 0 and upper.referrer_id != referral.referred_id:
            _bonus(referral, ReferralReward.Role.SECOND_LEVEL, upper.referrer_id, share, channel_id, now,
                   available_at, f"Second-level referral reward: {referral.referred.external_id} via "
                                 f"{referrer.external_id}")
    referral.status = Referral.Status.REWARDED if paid_referrer else Referral.Status.QUALIFIED
    referral.save(update_fields=["ordinal", "reasons", "status", "order", "qualified_at"])
    return referral


def _qualifies(referral: Referral, order: Order) -> bool:
    program = referral.program
    joined = referral.referred.joined_at
    # Within the window after joining, and not backdated to before the member joined or the code was attached.
    return (order.amount >= program.min_order_amount
            and max(joined, referral.created_at) <= order.occurred_at <= joined + timedelta(days=program.qualify_days))


def _has_referral(member_id: int) -> bool:
    """Whether the member was referred at all (plain SQL on the unique index of the referred member: on most
    orders the answer is no, and the ORM's query with the referral's program cost more to build than to run)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {Referral._meta.db_table} WHERE referred_id = %s LIMIT 1", [member_id])
        return cursor.fetchone() is not None


def referral_qualify(*, order: Order, channel_id: int, payment_fingerprint: str = "",
                     parties: list[int] | None = None) -> Referral | None:
    """After an order is earned: if it is the referred member's first qualifying order, the referral succeeds
    (paid as pending points through the order's return window), or is held for review. Returns the referral
    this order qualified, else None.

    `parties`, when given, is what `referral_parties` answered for the member as the caller locked: the member
    alone means they had no live referral then (most orders), and a cheap look at the unique index on the
    referred member stands in for reading the referral with its program: it finds nothing, or a code attached
    meanwhile, which the full path below refuses as a conflict to retry."""
    now = timezone.now()
    if payment_fingerprint:
        PaymentFingerprint.objects.bulk_create(
            [PaymentFingerprint(member_id=order.member_id, fingerprint=payment_fingerprint)], ignore_conflicts=True)
    if parties is not None and list(parties) == [order.member_id] and not _has_referral(order.member_id):
        return None
    candidate = one_or_none(Referral.objects.select_related("program", "referred").filter(
        referred_id=order.member_id, status__in=OPEN, order__isnull=True))
    if candidate is None or not _qualifies(candidate, order):
        return None
    _assert_parties_locked(candidate)
    referral = Referral.objects.select_for_update(of=("self",)).select_related("program", "referred").get(
        pk=candidate.pk)
    if referral.status not in OPEN or referral.order_id is not None:
        return None  # another order qualified it first
    referral.order, referral.qualified_at = order, now
    if not referral.cleared:
        reason = fraud.payment_reason(referrer_id=referral.referrer_id, fingerprint=payment_fingerprint)
        if reason and reason not in referral.reasons:
            referral.reasons = [*referral.reasons, reason]
        if referral.reasons:
            referral.status = Referral.Status.HELD
            referral.save(update_fields=["order", "qualified_at", "reasons", "status"])
            return referral
    return _pay(referral, channel_id=channel_id, now=now)


def _revoke_all(referral: Referral, *, channel_id: int, reason: str) -> int:
    taken = 0
    for reward in referral.rewards.select_for_update().filter(revoke_transaction__isnull=True).order_by("pk"):
        take_back = loyalty.points_bonus_revoke(
            transaction_id=reward.transaction_id, channel_id=our_channel("system"),
            idempotency_key=f"referral:{referral.pk}:{reward.role}:revoke", reason=reason)
        reward.revoke_transaction = take_back.transaction
        reward.save(update_fields=["revoke_transaction"])
        taken += take_back.points_taken
    return taken


def referral_reverse_if_unqualified(*, order: Order, channel_id: int) -> dict | None:
    """After a refund of `order`: if it was a referral's qualifying order and no longer qualifies (refunded in
    full, or below the minimum value), the referral is reversed and every reward it paid is taken back.
    The caller holds the parties' ledger locks (`referral_parties`)."""
    candidate = one_or_none(Referral.objects.filter(order_id=order.pk))
    if candidate is None or candidate.status in (Referral.Status.REJECTED, Referral.Status.REVERSED):
        return None
    _assert_parties_locked(candidate)
    referral = Referral.objects.select_for_update(of=("self",)).select_related("program").get(pk=candidate.pk)
    order = Order.objects.get(pk=order.pk)
    kept = order.amount - order.refunded_amount
    if referral.status in (Referral.Status.REJECTED, Referral.Status.REVERSED) or (
            kept > 0 and kept >= referral.program.min_order_amount):
        return None
    taken = _revoke_all(referral, channel_id=channel_id, reason=f"Referral reversed: order {order.order_id} "
                                                                "was refunded")
    referral.status = Referral.Status.REVERSED
    referral.reasons = [*referral.reasons, "order_refunded"]
    referral.save(update_fields=["status", "reasons"])
    return {"id": referral.pk, "status": referral.status, "points_taken_back": taken}


@transaction.atomic(durable=True)
def referral_review(*, referral_id: int, approve: bool, actor) -> Referral:
    """Staff decide on a held referral: approving pays it (when its order has qualified it) or lets it wait
    for that order without further holds; rejecting means it never pays. In the audit log, with the user."""
    candidate = one_or_none(Referral.objects.filter(pk=referral_id))
    if candidate is None:
        raise NotFound(f"No referral #{referral_id}.", code=ReferralsErrorCode.REFERRAL_NOT_FOUND)
    with locks.members_locked(_parties(candidate)):
        referral = Referral.objects.select_for_update(of=("self",)).select_related("program", "referred").get(
            pk=referral_id)
        if referral.status != Referral.Status.HELD:
            raise Conflict(f"Referral #{referral.pk} is {referral.status}, not held for review.",
                           code=ReferralsErrorCode.REFERRAL_NOT_HELD)
        now = timezone.now()
        referral.reviewed_by = actor if getattr(actor, "pk", None) else None
        referral.reviewed_at = now
        if approve:
            referral.cleared = True
            referral.status = Referral.Status.PENDING
            referral.save(update_fields=["cleared", "status", "reviewed_by", "reviewed_at"])
            if referral.order_id is not None:
                _pay(referral, channel_id=Channel.named(Channel.ADMIN).pk, now=now)
        else:
            referral.status = Referral.Status.REJECTED
            referral.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        audit_record(action=f"referral.{'approve' if approve else 'reject'}", target_type="referral",
                     target_id=referral.pk, actor=actor,
                     details={"reasons": referral.reasons, "status": referral.status,
                              "referrer": referral.referrer_id, "referred": referral.referred_id})
        return referral
