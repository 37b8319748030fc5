from django.db import transaction
from django.utils import timezone

from core.errors import BadRequest, BusinessRuleError
from core.fields import MAX_POINTS
from core.services import audit_record
from members.models import Member

from ..exceptions import LoyaltyErrorCode
from ..locks import members_locked
from ..models import ProgramSettings, Transaction
from .earning import credit
from .ledger import post, spend
from .settling import settle_locked

UNLIMITED_PERMISSION = "loyalty.adjust_points_unlimited"


def adjust_limit_for(actor) -> int | None:
    """A clerk's limit from the program settings; managers (and scoped API keys) have none."""
    if actor is None or not getattr(actor, "pk", None) or actor.has_perm(UNLIMITED_PERMISSION):
        return None
    return ProgramSettings.current().clerk_adjust_limit


@transaction.atomic(savepoint=False)
def points_adjust(*, member: Member, points: int, reason: str, channel_id: int, idempotency_key: str,
                  actor=None) -> Transaction:
    """A manual credit (a new lot, available at once) or debit (first-expiring lots first), with a reason.
    Staff adjustments are limited by role and always land in the audit log."""
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest("A reason is required.", fields={"reason": ["Required."]})
    if points == 0:
        raise BadRequest("Points must not be zero.", fields={"points": ["Must not be zero."]})
    if abs(points) > MAX_POINTS:
        raise BadRequest(f"At most {MAX_POINTS:,} points either way in one adjustment.",
                         fields={"points": [f"At most {MAX_POINTS:,} either way."]})
    limit = adjust_limit_for(actor)
    if limit is not None and abs(points) > limit:
        raise BusinessRuleError(f"Adjustments above {limit} points need a manager.",
                                code=LoyaltyErrorCode.ADJUSTMENT_LIMIT_EXCEEDED, extra={"limit": limit, "requested": points})
    with members_locked([member.pk]) as accounts:
        account = accounts[member.pk]
        now = timezone.now()
        settle_locked({member.pk: account}, now)
        if points > 0:
            txn = credit(account=account, points=points, kind=Transaction.Kind.ADJUST, channel_id=channel_id,
                            idempotency_key=idempotency_key, now=now, earned_at=now, available_at=now,
                            program=ProgramSettings.current(), reason=reason, actor=actor,
                            member_timezone=member.timezone)
        else:
            moved = spend(account=account, points=-points, now=now)
            txn = post(account=account, kind=Transaction.Kind.ADJUST, available_delta=points, pending_delta=0,
                       channel_id=channel_id, idempotency_key=idempotency_key, now=now, movements=moved,
                       reason=reason, actor=actor)
        audit_record(action="points.adjust", target_type="member", target_id=member.external_id, actor=actor,
                     channel_id=channel_id, details={"points": points, "reason": reason, "transaction": txn.pk})
        return txn
