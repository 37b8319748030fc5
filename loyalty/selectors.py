from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from members.models import Member
from members.selectors import tier_overview

from .models import Account, Lot, Transaction


@dataclass
class Balance:
    available: int
    pending: int
    lifetime_earned: int
    expiring: list[dict] = field(default_factory=list)
    pending_release: list[dict] = field(default_factory=list)
    tier: dict | None = None


def balance_get(*, member: Member, expiring_limit: int = 6) -> Balance:
    account = Account.objects.filter(member_id=member.pk).first() or Account(member_id=member.pk)
    now = timezone.now()
    open_lots = Lot.objects.filter(member_id=member.pk, remaining__gt=0)
    expiring = (
        open_lots.filter(expires_at__gt=now).annotate(date=TruncDate("expires_at"))
        .values("date").annotate(points=Sum("remaining")).order_by("date")[:expiring_limit]
    )
    releasing = (
        open_lots.filter(released=False).annotate(date=TruncDate("available_at"))
        .values("date").annotate(points=Sum("remaining")).order_by("date")[:expiring_limit]
    )
    # Between a due date and the job that posts it, show what the member can actually spend: expired points
    # are gone and points past their return window are available (a spend settles both first, under the lock).
    due = open_lots.filter(Q(expires_at__lte=now) | Q(released=False, available_at__lte=now)).values_list(
        "remaining", "released", "expires_at")
    available, pending = account.available, account.pending
    for remaining, released, expires_at in due:
        expired = expires_at is not None and expires_at <= now
        if released:
            available -= remaining
        elif expired:
            pending -= remaining
        else:
            pending, available = pending - remaining, available + remaining
    return Balance(
        available=available, pending=pending, lifetime_earned=account.lifetime_earned,
        expiring=[{"date": row["date"], "points": row["points"]} for row in expiring],
        pending_release=[{"date": row["date"], "points": row["points"]} for row in releasing],
        tier=tier_overview(member=member, now=now),
    )


def statement(*, member: Member, kinds: list[str] | None = None, since: date | None = None):
    qs = Transaction.objects.filter(member_id=member.pk)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if since:
        qs = qs.filter(created_at__date__gte=since)
    return qs.order_by("-id")


def ledger_totals() -> dict[str, int]:
    """Program-wide: what was earned, spent, expired and adjusted, beside the sum of all balances."""
    by_kind = dict(Transaction.objects.values_list("kind").annotate(total=Sum("points")).order_by())
    balances = Account.objects.aggregate(available=Sum("available"), pending=Sum("pending"))
    return {
        **{kind: by_kind.get(kind, 0) or 0 for kind in Transaction.Kind.values},
        "transactions_total": sum(v or 0 for v in by_kind.values()),
        "balances_total": (balances["available"] or 0) + (balances["pending"] or 0),
        "members_with_negative": Account.objects.filter(Q(available__lt=0) | Q(pending__lt=0)).count(),
    }
