from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, ErrorCode, NotFound
from loyalty import services as loyalty
from loyalty.models import Transaction
from members.models import Member

from .models import Redemption


def redemption_get(*, redemption_id: int, channel_id: int | None = None) -> Redemption:
    qs = Redemption.objects.select_related("member", "transaction", "cancel_transaction")
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    redemption = qs.filter(pk=redemption_id).first()
    if redemption is None:
        raise NotFound(f"No redemption {redemption_id}.", code="redemption_not_found")
    return redemption


@transaction.atomic(savepoint=False)
def redemption_create(*, member: Member, points: int, channel_id: int, idempotency_key: str,
                      order_id: str = "", reason: str = "") -> Redemption:
    txn = loyalty.points_spend(
        member=member, points=points, channel_id=channel_id, idempotency_key=idempotency_key,
        reference=order_id, reason=reason or (f"Redeemed on order {order_id}" if order_id else "Redeemed"),
        kind=Transaction.Kind.REDEEM,
    )
    return Redemption.objects.create(member=member, channel_id=channel_id, points=points, order_id=order_id,
                                     transaction=txn)


@transaction.atomic(savepoint=False)
def redemption_cancel(*, redemption_id: int, channel_id: int, idempotency_key: str, reason: str = "",
                      actor=None) -> Redemption:
    redemption = redemption_get(redemption_id=redemption_id, channel_id=channel_id)
    loyalty.member_lock(member_id=redemption.member_id)  # the member's lock first, then the redemption's row
    redemption = Redemption.objects.select_for_update().get(pk=redemption.pk)
    if redemption.status != Redemption.Status.COMPLETED:
        raise Conflict("This redemption is already cancelled.", code=ErrorCode.REDEMPTION_NOT_CANCELLABLE)
    redemption.cancel_transaction = loyalty.points_spend_reverse(
        spend_transaction_id=redemption.transaction_id, channel_id=channel_id, idempotency_key=idempotency_key,
        reason=reason, actor=actor,
    )
    redemption.status = Redemption.Status.CANCELLED
    redemption.cancelled_at = timezone.now()
    redemption.save(update_fields=["cancel_transaction", "status", "cancelled_at"])
    return redemption
