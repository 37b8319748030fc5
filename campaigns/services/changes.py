"""Lifecycle stage changes (insight records them nightly), tier changes (members records them as they happen) and
tags entered (insight's tag rows: a rule tag on the value tier, loyalty type or stage is a segment entered; a tag
removed and entered again is a new row)
fire their campaigns through a periodic job that reads each source after a cursor, by id, in batches: each batch
and the cursor's move commit together, and the firings' unique key makes a rerun apply nothing twice."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from insight.models import MemberTag, StageChange
from members.models import Notification, TierChange

from ..models import Campaign, ChangeCursor
from .evaluation import Candidate, firings_apply, live_campaigns

SOURCES = {
    "stage": (StageChange.objects.all(), Campaign.Trigger.STAGE_CHANGE),
    "tier": (TierChange.objects.all(), Campaign.Trigger.TIER_CHANGE),
    "tag": (MemberTag.objects.all(), Campaign.Trigger.TAG_ENTERED),
    # The pre-downgrade warning: members' nightly tier evaluation decides it and sends its message (one
    # implementation of when and what it says); campaigns on this trigger add their offer to it (e.g. double points
    # on the next order to keep the tier), once per warning (its outbox dedupe key), whatever its channels.
    "warning": (Notification.objects.filter(kind="tier_downgrade_warning"), Campaign.Trigger.TIER_WARNING),
}


def _occurrence(source: str, change) -> str:
    return f"warning:{change.dedupe_key}" if source == "warning" else f"{source}:{change.pk}"


def _matches(campaign: Campaign, change) -> bool:
    if campaign.trigger == Campaign.Trigger.STAGE_CHANGE:
        return not campaign.to_stage or change.to_stage == campaign.to_stage
    if campaign.trigger == Campaign.Trigger.TAG_ENTERED:
        return change.tag_id == campaign.to_tag_id
    if campaign.trigger == Campaign.Trigger.TIER_WARNING:
        return True
    if campaign.upgrades_only and change.reason != TierChange.Reason.UPGRADE:
        return False
    return change.to_tier_id is not None and (not campaign.to_tier_id or change.to_tier_id == campaign.to_tier_id)


def _batch(source: str, batch_size: int, now: datetime) -> tuple[int, int]:
    rows, trigger = SOURCES[source]
    with transaction.atomic(durable=True):
        ChangeCursor.objects.get_or_create(source=source)
        cursor = ChangeCursor.objects.select_for_update().get(source=source)  # one run at a time per source
        changes = list(rows.filter(pk__gt=cursor.last_id).order_by("pk")[:batch_size])
        if not changes:
            return 0, 0
        candidates = [Candidate(campaign=campaign, member_id=change.member_id, occurrence=_occurrence(source, change))
                      for campaign in live_campaigns(trigger=trigger, now=now)
                      for change in changes if _matches(campaign, change)]
        fired = len(firings_apply(candidates=candidates, now=now, set_based=True)) if candidates else 0
        cursor.last_id = changes[-1].pk
        cursor.save(update_fields=["last_id"])
        return len(changes), fired


def changes_evaluate(*, batch_size: int = 500, now: datetime | None = None) -> dict[str, int]:
    """Apply the campaigns of the stage and tier changes recorded since the last run."""
    now = now or timezone.now()
    stats = {"changes": 0, "fired": 0}
    for source in SOURCES:
        while True:
            read, fired = _batch(source, batch_size, now)
            stats["changes"] += read
            stats["fired"] += fired
            if read < batch_size:
                break
    return stats
