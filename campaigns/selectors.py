"""Reads of campaigns worth naming: a campaign's reach against its control group (for the dashboard), and a
member's challenges."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from loyalty.models import Order
from members.models import Member

from .models import Campaign, Challenge, ChallengeProgress, Firing


@dataclass(frozen=True)
class GroupResult:
    members: int
    buyers: int  # members who ordered since their first firing
    orders: int
    spend: Decimal

    @property
    def buyer_share(self) -> Decimal | None:
        return (Decimal(self.buyers) / self.members * 100).quantize(Decimal("0.1")) if self.members else None

    @property
    def spend_per_member(self) -> Decimal | None:
        return (self.spend / self.members).quantize(Decimal("0.01")) if self.members else None


def campaign_results(*, campaign: Campaign) -> dict[str, GroupResult]:
    """Members reached and members held out, with their orders and spend since their first firing of the
    campaign: {"reached": ..., "held_out": ...}. One statement, through the firings' and orders' member indexes."""
    sql = (f"WITH f AS (SELECT member_id, held_out, MIN(fired_at) AS first FROM {Firing._meta.db_table} "
           "WHERE campaign_id = %s GROUP BY member_id, held_out) "
           "SELECT f.held_out, COUNT(DISTINCT f.member_id), COUNT(DISTINCT o.member_id), COUNT(o.id), "
           f"COALESCE(SUM(o.amount), 0) FROM f LEFT JOIN {Order._meta.db_table} o "
           "ON o.member_id = f.member_id AND o.occurred_at >= f.first GROUP BY f.held_out")
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign.pk])
        rows = {held: GroupResult(members, buyers, orders, spend) for held, members, buyers, orders, spend in cursor}
    empty = GroupResult(0, 0, 0, Decimal("0"))
    return {"reached": rows.get(False, empty), "held_out": rows.get(True, empty)}


def _text(texts: dict, language: str) -> str:
    return (texts or {}).get(language) or (texts or {}).get("en") or next(iter((texts or {}).values()), "")


def challenges_of(*, member: Member, now: datetime | None = None, language: str = "") -> list[dict]:
    """The member's challenges: every live one, and every one they completed, with the progress of their current
    attempt (an attempt past its window counts as nothing: `expired`), in two queries."""
    now = now or timezone.now()
    language = language or member.language
    live = Q(active=True) & (Q(starts_at__isnull=True) | Q(starts_at__lte=now)) & (
        Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    attempts = {}
    for row in ChallengeProgress.objects.filter(member=member).select_related("voucher").order_by("period_start"):
        if attempts.get(row.challenge_id) is None or attempts[row.challenge_id].completed_at is None:
            attempts[row.challenge_id] = row  # the completed attempt, else the last one
    challenges = Challenge.objects.filter(live | Q(pk__in=[r.challenge_id for r in attempts.values()
                                                           if r.completed_at])).select_related("event_type", "reward")
    out = []
    for challenge in challenges.order_by("pk"):
        attempt = attempts.get(challenge.pk)
        if attempt is not None and attempt.completed_at:
            status, progress = "completed", challenge.target
        elif attempt is not None and attempt.open_until > now:
            status, progress = "in_progress", attempt.count
        else:
            status, progress = ("expired" if attempt is not None else "not_started"), 0
        current = attempt if status in ("completed", "in_progress") else None
        out.append({
            "code": challenge.code, "title": _text(challenge.title, language),
            "description": _text(challenge.description, language), "kind": challenge.kind,
            "event_type": challenge.event_type.name if challenge.event_type_id else None,
            "target": challenge.target, "within_days": challenge.within_days if challenge.kind == "count" else None,
            "progress": progress, "status": status,
            "started_at": current.period_start if current else None,
            "due_by": current.open_until if status == "in_progress" else None,
            "completed_at": attempt.completed_at if status == "completed" else None,
            "ends_at": challenge.ends_at,
            "reward": {"points": challenge.bonus_points, "reward": challenge.reward.name if challenge.reward_id else None},
            "points": attempt.points if status == "completed" else 0,
            "voucher": attempt.voucher.code if status == "completed" and attempt.voucher_id else None,
        })
    return out
