"""Reads of campaigns worth naming: a campaign's reach against its control group, for the dashboard."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from loyalty.models import Order

from .models import Campaign, Firing


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
