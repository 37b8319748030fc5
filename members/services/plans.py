"""Paid memberships. The shop takes payments and reports them; we keep the periods and the benefits."""

import calendar
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import BusinessRuleError, Conflict, ErrorCode, NotFound

from ..exceptions import MembersErrorCode
from ..models import Member, MembershipSettings, Plan, Subscription, SubscriptionEvent, TierStatus
from ..models.plans import LIVE
from .notifications import notification_record
from .tiers import tier_take_back, tier_upgrade_if_qualified


def plan_get(*, code: str) -> Plan:
    plan = Plan.objects.filter(code=code, active=True).select_related("tier_floor").first()
    if plan is None:
        raise NotFound(f"No active plan {code!r}.", code=MembersErrorCode.PLAN_NOT_FOUND)
    return plan


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def _period_end(plan: Plan, start: datetime, anchor: datetime | None = None) -> datetime:
    """The end of the period that begins at `start`. A subscription's periods follow its anchor, not the previous
    end: started on 31 January, it renews on 28 February, then on 31 March (not on the 28th ever after)."""
    if plan.kind == Plan.Kind.ONE_TIME:
        return start + timedelta(days=plan.duration_days)
    step = 1 if plan.period == Plan.Period.MONTH else 12
    anchor = anchor or start
    periods = ((start.year - anchor.year) * 12 + start.month - anchor.month) // step + 1
    while (end := _add_months(anchor, periods * step)) <= start:
        periods += 1
    return end


def _renewal_grace(sub: Subscription) -> timedelta:
    """How long after its period's end a subscription that renews waits for the payment before it ends."""
    if sub.plan.kind != Plan.Kind.SUBSCRIPTION or sub.cancel_at_period_end:
        return timedelta(0)
    return timedelta(days=MembershipSettings.current().renewal_grace_days)


def subscription_for(*, member: Member, subscription_id: int) -> Subscription:
    sub = Subscription.objects.select_related("plan").filter(pk=subscription_id, member=member).first()
    if sub is None:
        raise NotFound(f"No subscription {subscription_id} for this member.", code=MembersErrorCode.SUBSCRIPTION_NOT_FOUND)
    return sub


def _lock(subscription: Subscription) -> Subscription:
    return Subscription.objects.select_for_update().select_related("plan").get(pk=subscription.pk)


def _event(sub: Subscription, kind: str, now: datetime, **fields) -> SubscriptionEvent:
    return SubscriptionEvent.objects.create(subscription=sub, kind=kind, created_at=now,
                                            period_end=sub.current_period_end, **fields)


def _payment_event(sub: Subscription, kind: str, now: datetime, *, channel_id: int, payment_reference: str,
                   amount: Decimal | None) -> SubscriptionEvent:
    """Record a payment; the database keeps a reference to one use per channel, even between two racing requests."""
    try:
        with transaction.atomic():
            return _event(sub, kind, now, channel_id=channel_id, payment_reference=payment_reference, amount=amount)
    except IntegrityError as exc:
        raise _reference_used(payment_reference) from exc


def _reference_used(payment_reference: str) -> Conflict:
    return Conflict(f"The payment {payment_reference!r} was already recorded; a payment counts once.",
                    code=MembersErrorCode.PAYMENT_REFERENCE_USED, fields={"payment_reference": ["Already used."]})


def _check_payment(plan: Plan, amount: Decimal | None, currency: str | None) -> None:
    if currency and currency != plan.currency:
        raise BusinessRuleError(f"The plan is sold in {plan.currency}.", code=ErrorCode.CURRENCY_NOT_SUPPORTED,
                                fields={"currency": [f"Expected {plan.currency}."]})
    if amount is not None and amount < 0:
        raise BusinessRuleError("A payment cannot be negative.", fields={"amount": ["Must not be negative."]})


@transaction.atomic(savepoint=False)
def subscription_start(*, member: Member, plan: Plan, channel_id: int, payment_reference: str = "",
                       amount: Decimal | None = None, currency: str | None = None, trial: bool = False) -> Subscription:
    """Start a paid membership (or its trial). One live membership per member; benefits apply at once.
    A payment reference counts once per channel, for good: not for another member, not after a refund."""
    if not member.is_active:
        raise BusinessRuleError(f"The member is {member.status}.", code=MembersErrorCode.MEMBER_INACTIVE)
    _check_payment(plan, amount, currency)
    now = timezone.now()
    trialing = trial and plan.trial_days > 0
    if trial and not trialing:
        raise BusinessRuleError("This plan has no trial.", code=MembersErrorCode.NO_TRIAL,
                                fields={"trial": ["No trial for this plan."]})
    if trialing and Subscription.objects.filter(member=member, plan=plan).exists():
        raise BusinessRuleError("The member already had this plan; the trial is for newcomers.", code=MembersErrorCode.TRIAL_USED)
    if not trialing and not payment_reference:
        raise BusinessRuleError("A paid start needs the payment reference.", code=ErrorCode.INVALID,
                                fields={"payment_reference": ["Required unless starting a trial."]})
    TierStatus.objects.bulk_create([TierStatus(member=member)], ignore_conflicts=True)
    TierStatus.objects.select_for_update().get(member=member)  # one start at a time per member
    if Subscription.objects.filter(member=member, status__in=LIVE).exists():
        raise Conflict("The member already has a live paid membership.", code=MembersErrorCode.SUBSCRIPTION_EXISTS)
    if payment_reference and SubscriptionEvent.objects.filter(channel_id=channel_id,
                                                              payment_reference=payment_reference).exists():
        raise _reference_used(payment_reference)
    end = now + timedelta(days=plan.trial_days) if trialing else _period_end(plan, now)
    try:
        with transaction.atomic():
            sub = Subscription.objects.create(
                member=member, plan=plan, started_at=now, current_period_start=now, current_period_end=end,
                period_anchor=None if trialing else now,
                status=Subscription.Status.TRIALING if trialing else Subscription.Status.ACTIVE)
    except IntegrityError as exc:
        raise Conflict("The member already has a live paid membership.", code=MembersErrorCode.SUBSCRIPTION_EXISTS) from exc
    _payment_event(sub, SubscriptionEvent.Kind.TRIAL_STARTED if trialing else SubscriptionEvent.Kind.STARTED, now,
                   channel_id=channel_id, payment_reference=payment_reference, amount=amount)
    tier_upgrade_if_qualified(member_id=member.pk, now=now)
    return sub


@transaction.atomic(savepoint=False)
def subscription_renew(*, subscription: Subscription, channel_id: int, payment_reference: str,
                       amount: Decimal | None = None, currency: str | None = None) -> Subscription:
    """Record a renewal payment: the next period follows the current one, on the membership's anchor day, also when
    the payment comes late within the renewal grace (`renewal_grace_days`). A payment counts once."""
    sub = _lock(subscription)
    _check_payment(sub.plan, amount, currency)
    used = SubscriptionEvent.objects.filter(channel_id=channel_id, payment_reference=payment_reference).first()
    if used is not None and used.subscription_id == sub.pk:
        return sub  # this payment was already recorded
    if used is not None:
        raise _reference_used(payment_reference)
    if not sub.is_live:
        raise BusinessRuleError(f"This membership is {sub.status}; start a new one.", code=MembersErrorCode.SUBSCRIPTION_NOT_LIVE)
    if sub.plan.kind == Plan.Kind.ONE_TIME:
        raise BusinessRuleError("A one-time membership is not renewed; buy it again when it ends.",
                                code=MembersErrorCode.SUBSCRIPTION_NOT_RENEWABLE)
    now = timezone.now()
    if now > sub.current_period_end + _renewal_grace(sub):
        raise BusinessRuleError(f"This membership ended on {sub.current_period_end:%Y-%m-%d}; start a new one.",
                                code=MembersErrorCode.SUBSCRIPTION_NOT_LIVE)
    start = sub.current_period_end  # late within the grace, or early: the membership continues without a gap
    sub.period_anchor = sub.period_anchor or start  # after a trial, the first paid period sets the day
    sub.current_period_start, sub.current_period_end = start, _period_end(sub.plan, start, sub.period_anchor)
    sub.status, sub.cancel_at_period_end, sub.cancelled_at = Subscription.Status.ACTIVE, False, None
    sub.save()
    _payment_event(sub, SubscriptionEvent.Kind.RENEWED, now, channel_id=channel_id,
                   payment_reference=payment_reference, amount=amount)
    tier_upgrade_if_qualified(member_id=sub.member_id, now=now)  # the floor is back after a late payment
    return sub


@transaction.atomic(savepoint=False)
def subscription_cancel(*, subscription: Subscription, channel_id: int | None, immediately: bool = False,
                        refund_amount: Decimal | None = None) -> Subscription:
    """Cancel at the period's end (benefits until then), or at once with the refund the shop made: then the tier the
    plan's floor gave goes at once too, without grace or warning (grace is for tiers earned by activity)."""
    sub = _lock(subscription)
    if not sub.is_live:
        raise Conflict(f"This membership is already {sub.status}.", code=MembersErrorCode.SUBSCRIPTION_NOT_LIVE)
    now = timezone.now()
    if not immediately:
        if refund_amount:
            raise BusinessRuleError("A refund comes with an immediate cancellation.", code=ErrorCode.INVALID,
                                    fields={"refund_amount": ["Only with immediately=true."]})
        if sub.cancel_at_period_end:
            return sub
        sub.cancel_at_period_end, sub.cancelled_at = True, now
        sub.save()
        _event(sub, SubscriptionEvent.Kind.CANCEL_SCHEDULED, now, channel_id=channel_id)
        return sub
    sub.status, sub.cancelled_at, sub.ended_at = Subscription.Status.CANCELLED, now, now
    sub.current_period_end = max(now, sub.current_period_start + timedelta(microseconds=1))
    sub.save()
    _event(sub, SubscriptionEvent.Kind.CANCELLED, now, channel_id=channel_id, refund_amount=refund_amount)
    tier_take_back(member_id=sub.member_id, since=sub.started_at, now=now,
                   note=f"Paid membership {sub.plan.code} cancelled" + (" and refunded" if refund_amount else ""))
    return sub


def subscriptions_expire_due(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """End the memberships whose period is over and was not renewed: at once those that will not renew (one-time,
    cancelled at the period's end), the others once the renewal grace has passed without a payment. The tier a
    plan's floor held is then reviewed like any other (grace and warning). Batched, re-runnable."""
    now = now or timezone.now()
    grace = timedelta(days=MembershipSettings.current().renewal_grace_days)
    renews = Q(plan__kind=Plan.Kind.SUBSCRIPTION, cancel_at_period_end=False)
    ended = 0
    while True:
        with transaction.atomic(durable=True):
            due = list(Subscription.objects.select_for_update(skip_locked=True, of=("self",)).select_related("plan")
                       .filter(status__in=LIVE, current_period_end__lte=now)
                       .filter(~renews | Q(current_period_end__lte=now - grace)).order_by("id")[:batch_size])
            for sub in due:
                sub.status, sub.ended_at = Subscription.Status.EXPIRED, now
                sub.save(update_fields=["status", "ended_at"])
                _event(sub, SubscriptionEvent.Kind.EXPIRED, now)
                TierStatus.objects.filter(member_id=sub.member_id).update(review_at=now)
                notification_record(member=sub.member_id, kind="membership_ended",
                                    dedupe_key=f"membership-ended:{sub.pk}:{sub.current_period_end:%Y%m%d%H%M}",
                                    payload={"plan": sub.plan.code, "ended_at": now.isoformat()})
        ended += len(due)
        if len(due) < batch_size:
            return ended


def membership_reminders_send(*, now: datetime | None = None) -> int:
    """Remind members before a renewal or before a membership ends: once per member, kind and period end."""
    now = now or timezone.now()
    settings = MembershipSettings.current()
    horizon = now + timedelta(days=max(settings.renewal_reminder_days, settings.expiry_reminder_days))
    recorded = 0
    subs = (Subscription.objects.select_related("plan").filter(status__in=LIVE, current_period_end__gt=now,
                                                               current_period_end__lte=horizon).order_by("id"))
    with transaction.atomic():
        for sub in subs.iterator(chunk_size=500):
            renews = sub.plan.kind == Plan.Kind.SUBSCRIPTION and not sub.cancel_at_period_end \
                and sub.status == Subscription.Status.ACTIVE
            kind, days = (("membership_renewal_reminder", settings.renewal_reminder_days) if renews
                          else ("membership_expiry_reminder", settings.expiry_reminder_days))
            if not days or sub.current_period_end > now + timedelta(days=days):
                continue
            recorded += notification_record(
                member=sub.member_id, kind=kind, dedupe_key=f"{kind}:{sub.pk}:{sub.current_period_end:%Y%m%d%H%M}",
                payload={"plan": sub.plan.code, "date": sub.current_period_end.date().isoformat(),
                         "price": str(sub.plan.price), "currency": sub.plan.currency},
            ) is not None
    return recorded
