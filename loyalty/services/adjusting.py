import logging
from datetime import timedelta
from functools import partial

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from core.errors import BadRequest, BusinessRuleError
from core.fields import MAX_POINTS
from core.idempotency import derived_key
from core.services import audit_record
from members.models import Member

from ..exceptions import LoyaltyErrorCode
from ..locks import members_locked
from ..models import BulkAdjustment, BulkAdjustmentItem, ProgramSettings, Transaction
from .earning import credit
from .ledger import post, spend
from .settling import settle_locked

log = logging.getLogger(__name__)
UNLIMITED_PERMISSION = "loyalty.adjust_points_unlimited"


def adjust_limit_for(actor) -> int | None:
    """A clerk's limit from the program settings; managers (and scoped API keys) have none."""
    if actor is None or not getattr(actor, "pk", None) or actor.has_perm(UNLIMITED_PERMISSION):
        return None
    return ProgramSettings.current().clerk_adjust_limit


def _adjustment_validate(*, points: int, reason: str, actor) -> str:
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
    return reason


def _adjust_locked(*, account, member_timezone: str, points: int, reason: str, channel_id: int, idempotency_key: str,
                   actor, now, program: ProgramSettings, details: dict | None = None) -> Transaction:
    """The adjustment itself, for a member whose account the caller locked and settled."""
    if points > 0:
        return credit(account=account, points=points, kind=Transaction.Kind.ADJUST, channel_id=channel_id,
                      idempotency_key=idempotency_key, now=now, earned_at=now, available_at=now, program=program,
                      reason=reason, actor=actor, details=details, member_timezone=member_timezone)
    moved = spend(account=account, points=-points, now=now)
    return post(account=account, kind=Transaction.Kind.ADJUST, available_delta=points, pending_delta=0,
                channel_id=channel_id, idempotency_key=idempotency_key, now=now, movements=moved, reason=reason,
                actor=actor, details=details)


@transaction.atomic(savepoint=False)
def points_adjust(*, member: Member, points: int, reason: str, channel_id: int, idempotency_key: str,
                  actor=None, details: dict | None = None) -> Transaction:
    """A manual credit (a new lot, available at once) or debit (first-expiring lots first), with a reason.
    Staff adjustments are limited by role and always land in the audit log. `details` go on the transaction
    (e.g. a reason code)."""
    reason = _adjustment_validate(points=points, reason=reason, actor=actor)
    with members_locked([member.pk]) as accounts:
        account = accounts[member.pk]
        now = timezone.now()
        settle_locked({member.pk: account}, now)
        txn = _adjust_locked(account=account, member_timezone=member.timezone, points=points, reason=reason,
                             channel_id=channel_id, idempotency_key=idempotency_key, actor=actor, now=now,
                             program=ProgramSettings.current(), details=details)
        audit_record(action="points.adjust", target_type="member", target_id=member.external_id, actor=actor,
                     channel_id=channel_id, details={"points": points, "reason": reason, "transaction": txn.pk})
        return txn


# --- Bulk: one adjustment to many members, as a job ---------------------------------------------------------------

BULK_BATCH = 500


@transaction.atomic(savepoint=False)
def bulk_adjustment_create(*, points: int, reason: str, member_ids: QuerySet, source: str, channel_id: int,
                           actor=None) -> BulkAdjustment:
    """Record a bulk adjustment of `points` for every member of `member_ids` (a query of member ids: a list the
    shop sent, or a segment), set-based; the job (`bulk_adjustment_run`) makes the adjustments after commit."""
    reason = _adjustment_validate(points=points, reason=reason, actor=actor)
    bulk = BulkAdjustment.objects.create(points=points, reason=reason, channel_id=channel_id, actor=actor,
                                         source=source[:120])
    ids_sql, ids_params = member_ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"""INSERT INTO {BulkAdjustmentItem._meta.db_table} (bulk_id, member_id, outcome, note)
                           SELECT %s, m.id, 'pending', '' FROM ({ids_sql}) m(id) ON CONFLICT DO NOTHING""",
                       [bulk.pk, *ids_params])
        bulk.total = cursor.rowcount
    bulk.save(update_fields=["total"])
    audit_record(action="points.bulk_adjust", target_type="bulk_adjustment", target_id=str(bulk.pk), actor=actor,
                 channel_id=channel_id, details={"points": points, "reason": reason, "members": bulk.total,
                                                 "source": bulk.source})
    transaction.on_commit(partial(_bulk_enqueue, bulk.pk), robust=True)
    return bulk


def bulk_adjustments_unfinished(*, older_than: timedelta = timedelta(minutes=5)) -> list[int]:
    """Bulk adjustments queued or running for longer than `older_than` (their job was lost)."""
    return list(BulkAdjustment.objects.exclude(status=BulkAdjustment.Status.DONE)
                .filter(created_at__lt=timezone.now() - older_than).order_by("pk").values_list("pk", flat=True))


def _bulk_enqueue(bulk_id: int) -> None:
    """Best effort: with the broker down the bulk stays queued and `resume_bulk_adjustments` runs it later."""
    try:
        from ..tasks import run_bulk_adjustment

        run_bulk_adjustment.apply_async(args=[bulk_id], retry=False)
    except Exception:  # noqa: BLE001 - any broker error; the row is the outbox
        log.warning("Could not enqueue bulk adjustment %s; the periodic job will run it.", bulk_id, exc_info=True)


def bulk_adjustment_run(*, bulk_id: int, batch: int = BULK_BATCH) -> BulkAdjustment:
    """Make a bulk adjustment's pending adjustments, `batch` members per database transaction, in member-id order.
    Safe to rerun and to run after a crash: a batch commits whole or not at all, a member done is no longer
    pending, and each member's transaction has a key derived from (bulk, member), unique per channel."""
    BulkAdjustment.objects.filter(pk=bulk_id, status=BulkAdjustment.Status.QUEUED).update(
        status=BulkAdjustment.Status.RUNNING)
    while _bulk_batch_run(bulk_id=bulk_id, batch=batch):
        pass
    BulkAdjustment.objects.filter(pk=bulk_id).exclude(status=BulkAdjustment.Status.DONE).update(
        status=BulkAdjustment.Status.DONE, finished_at=timezone.now())
    return BulkAdjustment.objects.get(pk=bulk_id)


@transaction.atomic(durable=True)
def _bulk_batch_run(*, bulk_id: int, batch: int) -> int:
    bulk = BulkAdjustment.objects.select_for_update().get(pk=bulk_id)  # one runner at a time
    items = list(bulk.items.filter(outcome=BulkAdjustmentItem.Outcome.PENDING).select_related("member")
                 .order_by("member_id")[:batch])
    if not items:
        return 0
    program, now = ProgramSettings.current(), timezone.now()
    done = skipped = 0
    with members_locked([item.member_id for item in items]) as accounts:
        settle_locked(accounts, now)
        for item in items:
            key = derived_key("bulk", bulk.pk, item.member_id)
            try:
                with transaction.atomic():
                    item.transaction = _adjust_locked(
                        account=accounts[item.member_id], member_timezone=item.member.timezone, points=bulk.points,
                        reason=bulk.reason, channel_id=bulk.channel_id, idempotency_key=key, actor=bulk.actor,
                        now=now, program=program)
                item.outcome, done = BulkAdjustmentItem.Outcome.DONE, done + 1
            except BusinessRuleError as refusal:
                item.outcome, item.note, skipped = BulkAdjustmentItem.Outcome.SKIPPED, str(refusal.code), skipped + 1
    BulkAdjustmentItem.objects.bulk_update(items, ["outcome", "transaction", "note"])
    BulkAdjustment.objects.filter(pk=bulk_id).update(done=F("done") + done, skipped=F("skipped") + skipped)
    return len(items)
