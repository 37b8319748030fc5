"""Behaviour events: validated against their type's attribute schema, stored once per (channel, event id) (the
dedupe key in EventKey, the event in its month's partition), counted per (member, type, day) by an upsert, then
matched against the live event campaigns and challenges in the same transaction.

A batch is all or nothing: the first bad event refuses the whole batch (400, its index in `index` and in the
fields' path), and nothing is written.
"""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Count, F
from django.utils import timezone

from core.errors import BusinessRuleError, ErrorCode
from loyalty import locks
from members.models import Member

from ..exceptions import CampaignsErrorCode
from ..models import ATTRIBUTE_TYPES, Campaign, Event, EventCounter, EventKey, EventType, Firing
from . import challenges, partitions
from .evaluation import Candidate, firings_apply, live_campaigns

CLOCK_SKEW = timedelta(minutes=5)
MAX_VALUES = 100  # attribute values collected on a firing


@dataclass(frozen=True)
class EventInput:
    event_id: str
    member: str  # the member's external_id
    type: str
    occurred_at: datetime
    attributes: dict


@dataclass(frozen=True)
class Recorded:
    pk: int
    member_id: int
    type_id: int
    occurred_at: datetime
    attributes: dict
    channel_id: int


def _refuse(index: int, field: str, message: str, code: str) -> BusinessRuleError:
    """An event the program cannot take (an unknown member or type, attributes against the type's schema staff
    set): a rule of this program said no (422), not a malformed request."""
    return BusinessRuleError(f"events[{index}].{field}: {message}", code=code,
                             fields={"events": {str(index): {field: [message]}}}, extra={"index": index})


def attributes_problem(schema: dict, attributes: dict) -> str:
    """Why these attributes do not fit the type's schema ("" when they do)."""
    unknown = sorted(set(attributes) - set(schema))
    if unknown:
        return f"Unknown attribute {unknown[0]!r}."
    for key, rule in schema.items():
        if key not in attributes:
            if rule.get("required"):
                return f"The attribute {key!r} is required."
            continue
        value, expected = attributes[key], ATTRIBUTE_TYPES.get(rule.get("type"), object)
        if isinstance(value, bool) and rule.get("type") != "boolean" or not isinstance(value, expected):
            return f"The attribute {key!r} must be of type {rule.get('type')}."
    return ""


def _validate(events: list[EventInput], now: datetime) -> tuple[dict[str, Member], dict[str, EventType]]:
    kept_from = partitions.retention_start(now)
    members = {m.external_id: m for m in Member.objects.filter(external_id__in={e.member for e in events})}
    types = {t.name: t for t in EventType.objects.filter(name__in={e.type for e in events}, active=True)}
    for i, event in enumerate(events):
        if event.member not in members:
            raise _refuse(i, "member", f"No member {event.member!r}.", CampaignsErrorCode.EVENT_MEMBER_UNKNOWN)
        if event.type not in types:
            raise _refuse(i, "type", f"No event type {event.type!r}.", CampaignsErrorCode.EVENT_TYPE_UNKNOWN)
        if event.occurred_at > now + CLOCK_SKEW:
            raise _refuse(i, "occurred_at", "Is in the future.", ErrorCode.INVALID)
        if event.occurred_at < kept_from:
            raise _refuse(i, "occurred_at", f"Is older than the events kept (from {kept_from:%Y-%m-%d}).",
                          CampaignsErrorCode.EVENT_TOO_OLD)
        problem = attributes_problem(types[event.type].attributes, event.attributes)
        if problem:
            raise _refuse(i, "attributes", problem, CampaignsErrorCode.EVENT_ATTRIBUTES_INVALID)
    return members, types


def _rows(types: list[str], rows: list[tuple]) -> tuple[str, list]:
    """A subquery `u` of these rows, columns c1..cn, and its params. On PostgreSQL `unnest` of one array per column,
    so the statement's text is the same for any batch size (parsed once per process, prepared by the server)
    however many rows it carries; elsewhere (SQLite, the demo) plain VALUES rows."""
    names = [f"c{i}" for i in range(1, len(types) + 1)]
    if connection.vendor == "postgresql":
        arrays = [list(column) for column in zip(*rows, strict=True)]
        return (f"(SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in types)}) AS t({', '.join(names)})) u",
                arrays)
    row = "(" + ", ".join(["%s"] * len(types)) + ")"
    columns = ", ".join(f"column{i} AS {name}" for i, name in enumerate(names, start=1))
    return f"(SELECT {columns} FROM (VALUES {', '.join([row] * len(rows))})) u", [v for r in rows for v in r]


def _insert(rows: list[tuple], channel_id: int, now: datetime) -> list[Recorded]:
    """The events new to this channel, in two statements: their dedupe keys by INSERT ... ON CONFLICT DO NOTHING
    RETURNING (the keys that were new), then those events into their partitions."""
    first = {}
    for row in rows:
        first.setdefault(row[0], row)  # an id sent twice in one batch: the first one is stored
    keys = EventKey._meta.db_table
    source, params = _rows(["text", "timestamptz"], [(event_id, occurred_at)
                                                     for event_id, _, _, occurred_at, _ in first.values()])
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {keys} (channel_id, event_id, occurred_at) SELECT %s, u.c1, u.c2 FROM {source} "
                       "ON CONFLICT (channel_id, event_id) DO NOTHING RETURNING event_id", [channel_id, *params])
        new = [first[event_id] for (event_id,) in cursor.fetchall()]
        if not new:
            return []
        source, params = _rows(["text", "bigint", "bigint", "timestamptz", "text"], [
            (event_id, member_id, type_id, occurred_at, json.dumps(attributes))
            for event_id, member_id, type_id, occurred_at, attributes in new])
        attributes = "u.c5::jsonb" if connection.vendor == "postgresql" else "u.c5"
        cursor.execute(f"INSERT INTO {Event._meta.db_table} (channel_id, event_id, member_id, type_id, occurred_at, "
                       f"attributes, recorded_at) SELECT %s, u.c1, u.c2, u.c3, u.c4, {attributes}, %s FROM {source} "
                       "RETURNING id, event_id", [channel_id, now, *params])
        returned = cursor.fetchall()
    recorded = []
    for pk, event_id in returned:
        _, member_id, type_id, occurred_at, attributes = first[event_id]
        recorded.append(Recorded(pk, member_id, type_id, occurred_at, attributes, channel_id))
    return recorded


def _count(recorded: list[Recorded]) -> None:
    """Add the new events to their (member, type, day) counters, in key order (so batches never deadlock)."""
    counts = Counter((r.member_id, r.type_id, r.occurred_at.astimezone(UTC).date()) for r in recorded)
    table = EventCounter._meta.db_table
    source, params = _rows(["bigint", "bigint", "date", "integer"],
                           [(member_id, type_id, day, n) for (member_id, type_id, day), n in sorted(counts.items())])
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (member_id, type_id, day, count) SELECT u.c1, u.c2, u.c3, u.c4 "
                       f"FROM {source} ON CONFLICT (member_id, type_id, day) "
                       f"DO UPDATE SET count = {table}.count + EXCLUDED.count", params)


def events_record(*, channel_id: int, events: list[EventInput], now: datetime | None = None) -> dict:
    """Record a batch of events (runs inside the request's transaction) and apply the campaigns they fire."""
    now = now or timezone.now()
    members, types = _validate(events, now)
    rows = [(e.event_id, members[e.member].pk, types[e.type].pk, e.occurred_at, e.attributes) for e in events]
    campaigns = [c for trigger in (Campaign.Trigger.EVENT, Campaign.Trigger.EVENT_COUNT)
                 for c in live_campaigns(trigger=trigger, now=now, event_type_ids={t.pk for t in types.values()})]
    live_challenges = challenges.challenges_live(now=now, event_type_ids={t.pk for t in types.values()})
    acting = {c.event_type_id for c in campaigns} | {c.event_type_id for c in live_challenges}
    partitions.event_partitions_ensure(months={partitions.month_of(e.occurred_at) for e in events})
    # The members whose events a campaign acts on are locked before their events are written and counted, so two
    # batches of one member count one after the other: the one that reaches N sees the other's events.
    with locks.members_locked({member_id for _, member_id, type_id, _, _ in rows if type_id in acting}):
        recorded = _insert(rows, channel_id, now)
        if recorded:
            _count(recorded)
        firings = firings_apply(candidates=_candidates(recorded, campaigns), now=now) if recorded else []
        if recorded and live_challenges:
            challenges.challenges_advance(challenges=live_challenges, now=now, hits=[
                (r.type_id, r.member_id, r.occurred_at) for r in recorded])
    return {"recorded": len(recorded), "duplicates": len(events) - len(recorded), "fired": len(firings)}


def _candidates(recorded: list[Recorded], campaigns: list[Campaign]) -> list[Candidate]:
    by_type = defaultdict(list)
    for r in recorded:
        by_type[r.type_id].append(r)
    candidates, sliding = [], []
    for campaign in campaigns:
        events = by_type[campaign.event_type_id]
        if not events:
            continue
        if campaign.trigger == Campaign.Trigger.EVENT:
            if campaign.once_per_member:  # one candidate per member (and store, when the campaign names stores)
                events = list({(r.member_id, str(r.attributes.get("store", "")) if campaign.stores else ""): r
                               for r in reversed(events)}.values())[::-1]
            candidates += [Candidate(campaign=campaign, member_id=r.member_id, occurrence=f"event:{r.pk}",
                                     channel_id=r.channel_id, store=str(r.attributes.get("store", "")))
                           for r in events]
            continue
        if campaign.window == Campaign.Window.AFTER_SIGN_UP:
            candidates += _after_sign_up(campaign, events)
        else:
            sliding.append(campaign)
    if sliding:
        candidates += _sliding(sliding, by_type)
    return candidates


def _after_sign_up(campaign: Campaign, events: list[Recorded]) -> list[Candidate]:
    """Members who now have at least N events of the type within `window_hours` of joining: counted through the
    (member, type, occurred_at) index over that window only, for members whose new events fall in it."""
    window = timedelta(hours=campaign.window_hours)
    joined = dict(Member.objects.filter(pk__in={e.member_id for e in events}).values_list("pk", "joined_at"))
    ids = {e.member_id for e in events if joined[e.member_id] <= e.occurred_at <= joined[e.member_id] + window}
    if not ids:
        return []
    in_window = Event.objects.filter(type_id=campaign.event_type_id, member_id__in=ids,
                                     occurred_at__gte=F("member__joined_at"),
                                     occurred_at__lte=F("member__joined_at") + window)
    reached = [m for m, n in in_window.values("member_id").annotate(n=Count("id")).values_list("member_id", "n")
               if n >= campaign.event_count]
    values = _values(campaign, in_window.filter(member_id__in=reached))
    return [Candidate(campaign=campaign, member_id=m, occurrence="sign-up",
                      details={"values": values.get(m, [])} if campaign.collect_attribute else {})
            for m in reached]


def _sliding(campaigns: list[Campaign], by_type: dict[int, list[Recorded]]) -> list[Candidate]:
    """Members with at least N events of the type in the `window_days` days (UTC) ending on a day of their new
    events: summed from the per-day counters. At most one firing per window: not again within `window_days` of
    the last one. Two queries for all the sliding campaigns of the batch: their counters, their window firings."""
    ends_of = {c.pk: {(e.member_id, e.occurred_at.astimezone(UTC).date()) for e in by_type[c.event_type_id]}
               for c in campaigns}
    all_ends = set().union(*ends_of.values())
    first = min(d for _, d in all_ends) - timedelta(days=max(c.window_days for c in campaigns) - 1)
    members = {m for m, _ in all_ends}
    counts = defaultdict(dict)
    for member_id, type_id, day, n in EventCounter.objects.filter(
            type_id__in={c.event_type_id for c in campaigns}, member_id__in=members, day__gte=first,
            day__lte=max(d for _, d in all_ends)).values_list("member_id", "type_id", "day", "count"):
        counts[(member_id, type_id)][day] = n
    fired = defaultdict(set)
    for campaign_id, member_id, key in Firing.objects.filter(
            campaign_id__in=[c.pk for c in campaigns], member_id__in=members,
            occurrence_key__startswith="window:").values_list("campaign_id", "member_id", "occurrence_key"):
        fired[(campaign_id, member_id)].add(key.removeprefix("window:"))
    candidates = []
    for campaign in campaigns:
        days = campaign.window_days
        for member_id, end in sorted(ends_of[campaign.pk]):
            window = [end - timedelta(days=k) for k in range(days)]
            per_day = counts[(member_id, campaign.event_type_id)]
            if sum(per_day.get(d, 0) for d in window) < campaign.event_count:
                continue
            recent = {d.isoformat() for d in window} | {(end + timedelta(days=k)).isoformat() for k in range(1, days)}
            if fired[(campaign.pk, member_id)] & recent:
                continue
            fired[(campaign.pk, member_id)].add(end.isoformat())
            candidates.append(Candidate(campaign=campaign, member_id=member_id,
                                        occurrence=f"window:{end.isoformat()}"))
    return candidates


def _values(campaign: Campaign, events) -> dict[int, list]:
    """The distinct values of the campaign's `collect_attribute` per member (e.g. the courses viewed)."""
    if not campaign.collect_attribute:
        return {}
    values = defaultdict(set)
    for member_id, attributes in events.values_list("member_id", "attributes"):
        value = attributes.get(campaign.collect_attribute)
        if value is not None and len(values[member_id]) < MAX_VALUES:
            values[member_id].add(json.dumps(value))
    return {m: sorted(json.loads(v) for v in vs) for m, vs in values.items()}
