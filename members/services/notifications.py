"""The notification outbox: every message to a member is recorded here, in the transaction of the event that
causes it, once per dedupe key and channel; a periodic job (and, for latency, an enqueue after commit) delivers
what is pending, retrying with exponential backoff and dead-lettering after the last try.

Consent: marketing messages need `Member.marketing_consent`; service messages (points about to expire, a
birthday gift, membership reminders, tier warnings) need it only when the membership settings say
`service_messages_need_consent`. A message consent refuses is recorded as "skipped", so staff see it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from .. import channels
from ..models import Member, MembershipSettings, Notification, WebhookEndpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    member_id: int
    kind: str
    payload: dict
    dedupe_key: str
    marketing: bool = False


def consent_refuses(member: Member, *, marketing: bool, membership: MembershipSettings) -> str:
    """Why this member must not get this message ("" when they may)."""
    if member.status == Member.Status.CLOSED:
        return "The membership is closed."
    if marketing and not member.marketing_consent:
        return "No marketing consent."
    if not marketing and membership.service_messages_need_consent and not member.marketing_consent:
        return "Service messages need consent (membership settings)."
    return ""


def _rows(message: Message, member: Member, endpoints: list[WebhookEndpoint],
          membership: MembershipSettings) -> list[Notification]:
    common = dict(member_id=message.member_id, kind=message.kind, payload=message.payload,
                  dedupe_key=message.dedupe_key[:200], marketing=message.marketing)
    rows = []
    if member.email:
        rows.append(Notification(channel=Notification.Channel.EMAIL, target="email", **common))
    rows += [Notification(channel=Notification.Channel.WEBHOOK, endpoint=e, target=f"webhook:{e.pk}", **common)
             for e in endpoints if e.wants(message.kind)]
    refused = consent_refuses(member, marketing=message.marketing, membership=membership)
    if not rows:
        rows.append(Notification(channel=Notification.Channel.NONE, target="none", status=Notification.Status.SKIPPED,
                                 last_error="No e-mail address and no webhook for this kind.", **common))
    for row in rows:
        if refused:
            row.status, row.last_error = Notification.Status.SKIPPED, refused
    return rows


def _enqueue(ids: list[int]) -> None:
    """Ask a worker to deliver these at once. Best effort: when the broker is down the rows stay pending and the
    periodic delivery job sends them, so a failure here must never reach the caller."""
    try:
        from ..tasks import deliver_notifications

        if deliver_notifications.app.conf.task_always_eager:
            deliver_notifications.apply_async(args=[ids])
            return
        # One try, no waiting between retries: with the broker down this costs a refused connection, not seconds.
        with deliver_notifications.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
            deliver_notifications.apply_async(args=[ids], retry=False, connection=connection)
    except Exception:  # noqa: BLE001 - any broker error; the outbox keeps the message
        log.warning("Could not enqueue the delivery of notifications %s; the periodic job will send them.", ids[:10],
                    exc_info=True)


def _after_commit(rows: list[Notification]) -> None:
    ids = [r.pk for r in rows if r.pk and r.status == Notification.Status.PENDING]
    if ids and settings.NOTIFICATIONS_ENQUEUE_ON_COMMIT:
        transaction.on_commit(partial(_enqueue, ids), robust=True)


def notification_record(*, member: Member | int, kind: str, payload: dict, dedupe_key: str,
                        marketing: bool = False) -> Notification | None:
    """Record a message in the outbox, once per dedupe key. Returns None when it was already recorded, else the
    first row written (one per channel).

    Called inside the transaction of the event that causes the message, so the two commit together.
    """
    member_id = member.pk if isinstance(member, Model) else member
    dedupe_key = dedupe_key[:200]
    if Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    if not isinstance(member, Member):
        member = Member.objects.get(pk=member_id)
    rows = _rows(Message(member_id, kind, payload, dedupe_key, marketing), member,
                 list(WebhookEndpoint.objects.filter(active=True)), MembershipSettings.current())
    try:
        with transaction.atomic():  # a concurrent job recorded it first: the unique key decides
            created = Notification.objects.bulk_create(rows)
    except IntegrityError:
        return None
    _after_commit(created)
    return created[0]


def notifications_record_many(*, messages: list[Message]) -> int:
    """The batch jobs' form of `notification_record`: one read of the members and of what was already recorded,
    one insert (ON CONFLICT DO NOTHING). Returns how many messages were new."""
    if not messages:
        return 0
    keys = {m.dedupe_key[:200] for m in messages}
    done = set(Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True).distinct())
    fresh = {m.dedupe_key[:200]: m for m in messages if m.dedupe_key[:200] not in done}
    if not fresh:
        return 0
    members = Member.objects.in_bulk({m.member_id for m in fresh.values()})
    endpoints, membership = list(WebhookEndpoint.objects.filter(active=True)), MembershipSettings.current()
    rows = [row for m in fresh.values() for row in _rows(m, members[m.member_id], endpoints, membership)]
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    if settings.NOTIFICATIONS_ENQUEUE_ON_COMMIT:
        ids = list(Notification.objects.filter(dedupe_key__in=list(fresh), status=Notification.Status.PENDING)
                   .values_list("pk", flat=True))
        if ids:
            transaction.on_commit(partial(_enqueue, ids), robust=True)
    return len(fresh)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 2 x base, 4 x base ... capped."""
    seconds = settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.NOTIFICATION_RETRY_MAX_SECONDS))


def _send(notification: Notification) -> str:
    """One try, outside any database transaction. Returns "" when it went out, else why not."""
    try:
        if notification.channel == Notification.Channel.EMAIL:
            channels.email_send(notification)
        elif notification.channel == Notification.Channel.WEBHOOK:
            if not notification.endpoint.active:
                raise channels.DeliveryError("The webhook endpoint was deactivated.")
            channels.webhook_send(notification, notification.endpoint)
        else:
            raise channels.DeliveryError("No channel.")
    except channels.DeliveryError as exc:
        return str(exc)[:500]
    except Exception as exc:  # any failure of one message (a malformed answer, a template) is its failed try
        return f"{type(exc).__name__}: {exc}"[:500]
    return ""


# Beyond the longest a send may take: a claimed message stays invisible to other runs this much longer, for the
# e-mail backend, the database round trips and a worker paused under load.
CLAIM_MARGIN_SECONDS = 60


def claim_hold() -> timedelta:
    """How long a claim holds a message: longer than one send can take. A webhook call is cut off at
    WEBHOOK_TIMEOUT_SECONDS (the whole call, not each read), so that plus a margin."""
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + CLAIM_MARGIN_SECONDS)


def _claim(due_by: datetime, ids: list[int] | None, membership: MembershipSettings) -> tuple[Notification | None, str]:
    """Take the next message due by `due_by` in a short transaction of its own: count the try and hide it from
    other runs until the current time plus `claim_hold()` (and at least its backoff), so a run that is still
    sending long after it started never meets a message of its own as due again, and a worker that dies mid-send
    leaves it to be retried later, never at once. Returns the message and "" (send it), or why it was settled here."""
    with transaction.atomic(durable=True):
        due = (Notification.objects.select_for_update(skip_locked=True, of=("self",))
               .select_related("member", "endpoint")
               .filter(status=Notification.Status.PENDING, next_attempt_at__lte=due_by)
               .order_by("next_attempt_at", "id"))
        if ids is not None:
            due = due.filter(pk__in=ids)
        notification = next(iter(due[:1]), None)
        if notification is None:
            return None, ""
        refused = consent_refuses(notification.member, marketing=notification.marketing, membership=membership)
        if refused:  # consent withdrawn since the message was recorded
            notification.status, notification.last_error = Notification.Status.SKIPPED, refused
            notification.save(update_fields=["status", "last_error"])
            return notification, "skipped"
        notification.attempts += 1
        claimed_at = max(due_by, timezone.now())
        notification.next_attempt_at = claimed_at + max(claim_hold(), retry_delay(notification.attempts))
        notification.save(update_fields=["attempts", "next_attempt_at"])
    return notification, ""


def _settle(notification: Notification, error: str, due_by: datetime) -> str:
    """Record the try's outcome; a failed one waits its backoff from now, when the try ended."""
    fields = ["status", "sent_at", "last_error"]
    settled_at = max(due_by, timezone.now())
    if not error:
        notification.status, notification.sent_at, notification.last_error = Notification.Status.SENT, settled_at, ""
        outcome = "sent"
    elif notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        notification.status, notification.last_error, outcome = Notification.Status.DEAD, error, "dead"
    else:
        notification.last_error, outcome = error, "retry"
        notification.next_attempt_at = settled_at + retry_delay(notification.attempts)
        fields.append("next_attempt_at")
    with transaction.atomic(durable=True):
        notification.save(update_fields=fields)
    return outcome


def notifications_deliver_due(*, now: datetime | None = None, ids: list[int] | None = None,
                              limit: int = 1000) -> dict[str, int]:
    """Send the pending messages that are due (or these `ids`, if due), one at a time.

    Each message is claimed with SELECT ... FOR UPDATE SKIP LOCKED in a short transaction that counts the try and
    hides the message from other runs for longer than a send can take, sent outside any transaction, and its
    outcome recorded in another: overlapping runs share the work and never send a message twice, one bad message
    never holds back or re-sends the others, and a failed one backs off until its last try, then is
    dead-lettered. Safe to run at any time: a sent message is no longer pending.
    """
    now = now or timezone.now()
    membership = MembershipSettings.current()
    stats = {"sent": 0, "retry": 0, "dead": 0, "skipped": 0}
    for _ in range(limit):
        notification, settled = _claim(now, ids, membership)
        if notification is None:
            break
        stats[settled or _settle(notification, _send(notification), now)] += 1
    return stats


@transaction.atomic(savepoint=False)
def notification_retry(*, notification: Notification) -> Notification:
    """Staff send a dead-lettered (or failed) message again: it goes back to pending with a fresh count."""
    notification.status, notification.attempts, notification.next_attempt_at = Notification.Status.PENDING, 0, timezone.now()
    notification.save(update_fields=["status", "attempts", "next_attempt_at"])
    _after_commit([notification])
    return notification
