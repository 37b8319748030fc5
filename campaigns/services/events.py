"""Behaviour events: validated against their type's attribute schema, stored once per (channel, event id) (the
dedupe key in EventKey, the event in its month's partition), counted per (member, type, day) by an upsert, then
matched against the live event campaigns and challenges in the same transaction.

A batch is all or nothing: the first bad event refuses the whole batch (400, its index in `index` and in the
fields' path), and nothing is written.
"""

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from core.cache import cached
from core.errors import BusinessRuleError, ErrorCode
from loyalty import locks
from members.models import Member

from ..exceptions import CampaignsErrorCode
from ..models import ATTRIBUTE_TYPES, Campaign, Event, EventCounter, EventKey, EventType, Firing
from . import challenges, partitions
from .evaluation import Candidate, firings_apply, live_campaigns

CLOCK_SKEW = timedelta(minutes=5)
MAX_VALUES = 100  # attribute values collected on a firing
EVENT_TYPES = "campaigns.event_types"  # the settings cache's keys (see EventType.save and Campaign.save)
EVENT_CAMPAIGNS = "campaigns.event"


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


_CHECKERS: dict[str, Callable[[dict], str]] = {}


def _checker(schema: dict) -> Callable[[dict], str]:
    """The type's schema compiled once per process into a function that says why attributes do not fit it ("" when
    they do); keyed on the schema's text, so a type staff edit gets a new one."""
    text = json.dumps(schema, sort_keys=True)
    found = _CHECKERS.get(text)
    if found is not None:
        return found
    allowed = frozenset(schema)
    rules = tuple((key, bool(rule.get("required")), ATTRIBUTE_TYPES.get(rule.get("type"), object), rule.get("type"))
                  for key, rule in schema.items())

    def problem(attributes: dict) -> str:
        if not attributes.keys() <= allowed:
            return f"Unknown attribute {sorted(set(attributes) - allowed)[0]!r}."
        for key, required, expected, name in rules:
            if key not in attributes:
                if required:
                    return f"The attribute {key!r} is required."
                continue
            value = attributes[key]
            if isinstance(value, bool) and name != "boolean" or not isinstance(value, expected):
                return f"The attribute {key!r} must be of type {name}."
        return ""

    if len(_CHECKERS) > 1000:
        _CHECKERS.clear()
    _CHECKERS[text] = problem
    return problem


@dataclass(frozen=True)
class Type:
    """An active event type, as a batch needs it."""

    pk: int
    check: Callable[[dict], str]


def _types() -> dict[str, Type]:
    """The active event types by name, through the per-process settings cache (an edit saved is forgotten at once
    in its process, within SETTINGS_CACHE_SECONDS in the others), each with its compiled checker."""
    return cached(EVENT_TYPES, lambda: {name: Type(pk, _checker(schema)) for pk, name, schema in
                                        EventType.objects.filter(active=True).values_list("pk", "name", "attributes")})


def _validate(events: list[EventInput], now: datetime) -> tuple[dict[str, Member], dict[str, Type]]:
    """The batch's members (one query) and types; the first event the program cannot take refuses the batch."""
    kept_from = partitions.retention_start(now)
    members = {m.external_id: m for m in Member.objects.filter(external_id__in={e.member for e in events})}
    types = _types()
    latest = now + CLOCK_SKEW
    for i, event in enumerate(events):
        if event.member not in members:
            raise _refuse(i, "member", f"No member {event.member!r}.", CampaignsErrorCode.EVENT_MEMBER_UNKNOWN)
        kind = types.get(event.type)
        if kind is None:
            raise _refuse(i, "type", f"No event type {event.type!r}.", CampaignsErrorCode.EVENT_TYPE_UNKNOWN)
        if event.occurred_at > latest:
            raise _refuse(i, "occurred_at", "Is in the future.", ErrorCode.INVALID)
        if event.occurred_at < kept_from:
            raise _refuse(i, "occurred_at", f"Is older than the events kept (from {kept_from:%Y-%m-%d}).",
                          CampaignsErrorCode.EVENT_TOO_OLD)
        problem = kind.check(event.attributes)
        if problem:
            raise _refuse(i, "attributes", problem, CampaignsErrorCode.EVENT_ATTRIBUTES_INVALID)
    return members, types


# The batch's new events in one statement: their dedupe keys (the ids new to the channel), the events themselves
# into their month's partitions, and the (member, type, day) counters, added to in key order (so that batches never
# deadlock on them). The rows travel as one array per column (unnest), so the statement's text is the same for any
# batch size: parsed once per process, and prepared by the server when the connection prepares statements.
_INSERT = """
WITH u AS (SELECT * FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::timestamptz[], %s::text[])
                    AS t(event_id, member_id, type_id, occurred_at, attributes)),
k AS (INSERT INTO {keys} (channel_id, event_id, occurred_at) SELECT %s, event_id, occurred_at FROM u
      ON CONFLICT (channel_id, event_id) DO NOTHING RETURNING event_id),
e AS (INSERT INTO {events} (channel_id, event_id, member_id, type_id, occurred_at, attributes, recorded_at)
      SELECT %s, u.event_id, u.member_id, u.type_id, u.occurred_at, u.attributes::jsonb, %s FROM u JOIN k USING (event_id)
      RETURNING id, event_id, member_id, type_id, occurred_at),
c AS (INSERT INTO {counters} AS c (member_id, type_id, day, count)
      SELECT member_id, type_id, (occurred_at AT TIME ZONE 'UTC')::date, COUNT(*) FROM e GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
      ON CONFLICT (member_id, type_id, day) DO UPDATE SET count = c.count + EXCLUDED.count)
SELECT id, event_id FROM e
"""


def _insert(rows: list[tuple], channel_id: int, now: datetime) -> list[Recorded]:
    """The events new to this channel (an id sent twice in one batch: the first one), stored and counted."""
    first = {}
    for row in rows:
        first.setdefault(row[0], row)
    columns = [list(column) for column in zip(*first.values(), strict=True)]
    columns[4] = [json.dumps(attributes) for attributes in columns[4]]
    sql = _INSERT.format(keys=EventKey._meta.db_table, events=Event._meta.db_table,
                         counters=EventCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*columns, channel_id, channel_id, now])
        returned = cursor.fetchall()
    recorded = []
    for pk, event_id in returned:
        _, member_id, type_id, occurred_at, attributes = first[event_id]
        recorded.append(Recorded(pk, member_id, type_id, occurred_at, attributes, channel_id))
    return recorded


def _event_campaigns(now: datetime, type_ids: set[int]) -> list[Campaign]:
    """The live campaigns on events of these types, through the per-process settings cache (see Campaign.save).
    Read-only: budgeted ones are read again under their row lock before they pay."""
    active = cached(EVENT_CAMPAIGNS, lambda: [c for trigger in (Campaign.Trigger.EVENT, Campaign.Trigger.EVENT_COUNT)
                                              for c in live_campaigns(trigger=trigger, now=None)])
    return [c for c in active if c.event_type_id in type_ids and (c.starts_at is None or c.starts_at <= now)
            and (c.ends_at is None or c.ends_at > now)]


def events_record(*, channel_id: int, events: list[EventInput], now: datetime | None = None) -> dict:
    """Record a batch of events (runs inside the request's transaction) and apply the campaigns they fire. One
    event is a batch of one: the same statements, whatever the batch's size, plus the effects of what fires."""
    now = now or timezone.now()
    members, types = _validate(events, now)
    rows = [(e.event_id, members[e.member].pk, types[e.type].pk, e.occurred_at, e.attributes) for e in events]
    type_ids = {types[e.type].pk for e in events}
    campaigns = _event_campaigns(now, type_ids)
    live_challenges = challenges.challenges_live(now=now, event_type_ids=type_ids)
    acting = {c.event_type_id for c in campaigns} | {c.event_type_id for c in live_challenges}
    partitions.event_partitions_ensure(months={partitions.month_of(e.occurred_at) for e in events})
    by_id = {m.pk: m for m in members.values()}
    # The members whose events a campaign acts on are locked before their events are written and counted, so two
    # batches of one member count one after the other: the one that reaches N sees the other's events. Their
    # accounts are created first, so that all are locked in one pass in member-id order.
    locked = {member_id for _, member_id, type_id, _, _ in rows if type_id in acting}
    locks.accounts_create(locked)
    with locks.members_locked(locked):
        recorded = _insert(rows, channel_id, now)
        firings = firings_apply(candidates=_candidates(recorded, campaigns, by_id), now=now,
                                set_based=True) if recorded else []
        if recorded and live_challenges:
            challenges.challenges_advance(challenges=live_challenges, now=now, members=by_id, hits=[
                (r.type_id, r.member_id, r.occurred_at) for r in recorded])
    return {"recorded": len(recorded), "duplicates": len(events) - len(recorded), "fired": len(firings)}


def _candidates(recorded: list[Recorded], campaigns: list[Campaign], members: dict[int, Member]) -> list[Candidate]:
    by_type = defaultdict(list)
    for r in recorded:
        by_type[r.type_id].append(r)
    candidates, sliding, after_sign_up = [], [], []
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
        elif campaign.window == Campaign.Window.AFTER_SIGN_UP:
            after_sign_up.append(campaign)
        else:
            sliding.append(campaign)
    if after_sign_up:
        candidates += _after_sign_up(after_sign_up, by_type, members)
    if sliding:
        candidates += _sliding(sliding, by_type)
    return candidates


# Per (campaign, member) whose new events fall within `window_hours` of joining: the member's events of the type in
# that window, counted through the (member, type, occurred_at) index; one statement for all those campaigns.
_IN_WINDOW = """
SELECT p.campaign_id, p.member_id, COUNT(*) FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[],
    %s::timestamptz[]) AS p(campaign_id, member_id, type_id, since, until)
JOIN {events} e ON e.member_id = p.member_id AND e.type_id = p.type_id AND e.occurred_at BETWEEN p.since AND p.until
GROUP BY 1, 2
"""
# The distinct values of each reached campaign's `collect_attribute` in its window (e.g. the courses viewed).
_VALUES = """
SELECT DISTINCT p.campaign_id, p.member_id, (e.attributes -> p.name)::text FROM unnest(%s::bigint[], %s::bigint[],
    %s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::text[]) AS p(campaign_id, member_id, type_id, since, until, name)
JOIN {events} e ON e.member_id = p.member_id AND e.type_id = p.type_id AND e.occurred_at BETWEEN p.since AND p.until
WHERE e.attributes -> p.name IS NOT NULL AND e.attributes -> p.name <> 'null'::jsonb
"""


def _after_sign_up(campaigns: list[Campaign], by_type: dict[int, list[Recorded]],
                   members: dict[int, Member]) -> list[Candidate]:
    """Members who now have at least N events of the type within `window_hours` of joining, for members whose new
    events fall in that window: two statements for all such campaigns of the batch (the second only when one was
    reached and collects an attribute)."""
    pairs = {}
    for campaign in campaigns:
        window = timedelta(hours=campaign.window_hours)
        for e in by_type[campaign.event_type_id]:
            joined = members[e.member_id].joined_at
            if joined <= e.occurred_at <= joined + window:
                pairs[(campaign.pk, e.member_id)] = (campaign.event_type_id, joined, joined + window)
    if not pairs:
        return []
    rows = [(c, m, t, since, until) for (c, m), (t, since, until) in sorted(pairs.items())]
    columns = [list(column) for column in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(_IN_WINDOW.format(events=Event._meta.db_table), columns)
        counts = {(c, m): n for c, m, n in cursor.fetchall()}
    of = {c.pk: c for c in campaigns}
    reached = [(c, m) for (c, m) in sorted(pairs) if counts.get((c, m), 0) >= of[c].event_count]
    collecting = [(c, m, *pairs[(c, m)], of[c].collect_attribute) for c, m in reached if of[c].collect_attribute]
    values = defaultdict(set)
    if collecting:
        with connection.cursor() as cursor:
            cursor.execute(_VALUES.format(events=Event._meta.db_table),
                           [list(column) for column in zip(*collecting, strict=True)])
            for c, m, value in cursor.fetchall():
                values[(c, m)].add(value)
    candidates = []
    for c, m in reached:
        details = {}
        if of[c].collect_attribute:
            found = sorted((json.loads(v) for v in values[(c, m)]), key=lambda v: (type(v).__name__, v))
            details = {"values": found[:MAX_VALUES]}
        candidates.append(Candidate(campaign=of[c], member_id=m, occurrence="sign-up", details=details))
    return candidates


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
