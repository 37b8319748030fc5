"""Bonuses paid by apps above loyalty (referral rewards): a pending lot. Taken back by the take-back of
refunds (`refunds.points_bonus_revoke`).

A bonus is a lot of its own, pending until `available_at` (for a referral: the end of the qualifying order's
return window), so it is released by the settling job like any earned lot.
"""

from datetime import datetime

from django.utils import timezone

from core.errors import BadRequest
from members.models import Member

from ..locks import account_locked
from ..models import ProgramSettings, Transaction
from .earning import CreditLine, credit, credits_post


def points_bonus(*, member: Member, points: int, channel_id: int, idempotency_key: str, reason: str,
                 reference: str = "", available_at: datetime | None = None,
                 details: dict | None = None) -> Transaction:
    """Credit `points` as a bonus lot, pending until `available_at` (available at once when it has passed)."""
    if points <= 0:
        raise BadRequest("A bonus must be positive.", fields={"points": ["Must be positive."]})
    account = account_locked(member.pk)
    now = timezone.now()
    txn = credit(account=account, points=points, kind=Transaction.Kind.BONUS, channel_id=channel_id,
                    idempotency_key=idempotency_key, now=now, earned_at=now, available_at=available_at or now,
                    program=ProgramSettings.current(), reference=reference, reason=reason, details=details,
                    member_timezone=member.timezone)
    return txn


def points_bonus_many(*, lines: list[CreditLine], channel_id: int, now: datetime) -> list[Transaction]:
    """`points_bonus` for a batch of members (the campaigns' date job), available at once: every line a bonus lot
    of its own with its own idempotency key, written set-based (`earning.credits_post`: four statements whatever
    the batch's size). The caller holds every member's ledger lock."""
    if any(line.points <= 0 for line in lines):
        raise BadRequest("A bonus must be positive.", fields={"points": ["Must be positive."]})
    return credits_post(lines=lines, kind=Transaction.Kind.BONUS, channel_id=channel_id, now=now, earned_at=now,
                        available_at=now, program=ProgramSettings.current())
