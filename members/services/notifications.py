from django.db import IntegrityError, transaction
from django.db.models import Model

from ..models import Member, Notification


def notification_record(*, member: Member | int, kind: str, payload: dict, dedupe_key: str,
                        marketing: bool = False) -> Notification | None:
    """Record a message in the outbox, once per dedupe key. Returns None when it was already recorded.

    Called inside the transaction of the event that causes the message, so the two commit together.
    """
    member_id = member.pk if isinstance(member, Model) else member
    dedupe_key = dedupe_key[:200]
    if Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():  # a concurrent job recorded it first: the unique key decides
            return Notification.objects.create(member_id=member_id, kind=kind, payload=payload, dedupe_key=dedupe_key,
                                               marketing=marketing)
    except IntegrityError:
        return None
