"""Opening balances: the points a member brings from the shop's previous program, given once.

An opening balance is an adjustment (`points_adjust`, kind `adjust`) with the reason code `opening_balance` in its
details, on the admin channel, whose idempotency key is derived from the member's external_id alone: a member's
opening balance is given once, whatever the file or the number given the second time, so importing the same file
again changes nothing.
"""

from django.db import transaction

from core.errors import BadRequest
from members.models import Member

from ..locks import members_locked
from ..models import Transaction
from .adjusting import points_adjust

REASON_CODE = "opening_balance"
REASON = "Opening balance"


def opening_balance_key(external_id: str) -> str:
    return f"{REASON_CODE}:{external_id}"


def opening_balances_given(*, channel_id: int, external_ids: list[str]) -> dict[str, int]:
    """The opening balances already given to these members: external_id -> points."""
    keys = {opening_balance_key(e): e for e in external_ids}
    rows = Transaction.objects.filter(channel_id=channel_id, idempotency_key__in=list(keys))
    return {keys[key]: points for key, points in rows.values_list("idempotency_key", "points")}


@transaction.atomic(savepoint=False)
def opening_balances_give(*, entries: list[tuple[Member, int]], channel_id: int, actor) -> dict[str, int]:
    """Give each member their opening balance (positive points), unless they have one. The entry service of a
    batch: it locks all the batch's members at once, in member-id order, then credits each through `points_adjust`
    (which finds its member's lock held). Returns how many were `given` and `skipped` (given before)."""
    if any(points <= 0 for _, points in entries):
        raise BadRequest("An opening balance must be positive.", fields={"opening_balance": ["Must be positive."]})
    if len({m.pk for m, _ in entries}) != len(entries):
        raise BadRequest("A member appears twice.", fields={"opening_balance": ["A member appears twice."]})
    given = 0
    with members_locked([m.pk for m, _ in entries]):
        done = opening_balances_given(channel_id=channel_id, external_ids=[m.external_id for m, _ in entries])
        for member, points in entries:
            if member.external_id in done:
                continue
            points_adjust(member=member, points=points, reason=REASON, channel_id=channel_id,
                          idempotency_key=opening_balance_key(member.external_id), actor=actor,
                          details={"reason_code": REASON_CODE})
            given += 1
    return {"given": given, "skipped": len(entries) - given}
