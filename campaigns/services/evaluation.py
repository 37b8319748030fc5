"""Matching what happened (events, an order, a stage or tier change) against the live campaigns, and applying
the effects of those that fire, exactly once per (campaign, member, occurrence).

Evaluation is synchronous: an event batch or an order evaluates its campaigns in its own transaction, so the
effects commit (or roll back) with what caused them, and a retry finds the firing already recorded. The work is
bounded: one query per live campaign of the event types in the batch (counts through the events' index and the
per-day counters, never a scan of history), one per condition kind, then the writes of the firings.

Lock order: the members' ledger locks (loyalty.locks, member-id order), then the rows of budgeted campaigns
(campaign id order), then the firings. Under the member's lock the check for an earlier firing is final; the
unique key backs it.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from core.cache import cached
from core.errors import ApplicationError
from core.idempotency import derived_key
from core.models import Channel
from insight import services as insight
from insight.models import MemberSegment
from loyalty import locks
from loyalty import services as loyalty
from loyalty.models import Order
from loyalty.services.ledger import channel_id
from loyalty.services.rules import member_zone, program_zone
from members.models import Member, Subscription, TierStatus
from members.models.plans import LIVE as LIVE_PLANS
from members.services import Message, notifications_record_many
from rewards import services as rewards

from ..models import Campaign, CampaignSettings, Firing
from ..rules import MemberFacts, conditions_met, held_out, period_start

ONCE = "once"
ORDER_CAMPAIGNS = "campaigns.order"  # the settings cache's key (see Campaign.save)


@dataclass
class Candidate:
    campaign: Campaign
    member_id: int
    occurrence: str
    channel_id: int | None = None
    store: str = ""
    details: dict = field(default_factory=dict)
    at: datetime | None = None  # when it happened (the simulation's clock for time conditions and limits)

    @property
    def key(self) -> str:
        return ONCE if self.campaign.once_per_member else self.occurrence


def live_campaigns(*, trigger: str, now: datetime | None, event_type_ids=None) -> list[Campaign]:
    """The active campaigns of a trigger, within their dates at `now` (all dates when None)."""
    qs = Campaign.objects.filter(active=True, trigger=trigger)
    if now is not None:
        qs = qs.filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now), Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    if event_type_ids is not None:
        qs = qs.filter(event_type_id__in=event_type_ids)
    return list(qs.select_related("reward", "tag", "plan").order_by("pk"))


MEMBER_CONDITIONS = ("hour_from", "weekdays", "languages", "needs_marketing_consent", "age_min", "age_max")


def member_facts(campaigns: list[Campaign], member_ids: set[int]) -> dict[int, MemberFacts]:
    """The facts the campaigns' conditions look at, for these members: one query per kind of condition in use."""
    tiers, segments, plans, people = {}, {}, {}, {}
    if any(c.tiers for c in campaigns):
        tiers = dict(TierStatus.objects.filter(member_id__in=member_ids).values_list("member_id", "tier__code"))
    if any(c.stages or c.value_tiers or c.loyalty_types for c in campaigns):
        segments = {m: rest for m, *rest in MemberSegment.objects.filter(member_id__in=member_ids).values_list(
            "member_id", "stage", "value_tier", "loyalty_type")}
    if any(c.paid_plan for c in campaigns):
        plans = dict(Subscription.objects.filter(member_id__in=member_ids, status__in=LIVE_PLANS)
                     .values_list("member_id", "plan__code"))
    if any(getattr(c, f) not in (None, False, []) for c in campaigns for f in MEMBER_CONDITIONS):
        people = {m: rest for m, *rest in Member.objects.filter(pk__in=member_ids).values_list(
            "pk", "timezone", "language", "marketing_consent", "birth_date")}
    facts = {}
    for m in member_ids:
        stage, value_tier, loyalty_type = segments.get(m, (None, None, None))
        zone, language, consent, birth_date = people.get(m, (None, None, None, None))
        facts[m] = MemberFacts(tier=tiers.get(m), stage=stage, value_tier=value_tier, loyalty_type=loyalty_type,
                               plan=plans.get(m, ""), zone=member_zone(zone) if zone else None, language=language,
                               marketing_consent=consent, birth_date=birth_date)
    return facts


def _meets_conditions(candidates: list[Candidate], now: datetime) -> list[Candidate]:
    """Keep the candidates whose member and source meet their campaign's conditions (one query per kind)."""
    facts = member_facts(list({c.campaign.pk: c.campaign for c in candidates}.values()),
                         {c.member_id for c in candidates})
    channels = {}
    if any(c.campaign.channels for c in candidates):
        channels = dict(Channel.objects.values_list("pk", "name"))
    return [c for c in candidates if conditions_met(c.campaign, facts[c.member_id], now=now, store=c.store,
                                                    channel=channels.get(c.channel_id))]


def _text(texts: dict, language: str) -> str:
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


def _fire(c: Candidate, member: Member, now: datetime, system_channel: int, *, may_message: bool,
          spent: Counter) -> tuple[Firing, dict | None]:
    """The effects of one firing, through the ledger's, rewards' and insight's services (each exactly once by its
    derived key); the firing row itself is written with the batch's others, and the message once it has its id.
    Returns the unsaved firing and the message's payload (None: no message)."""
    campaign = c.campaign
    firing = Firing(campaign=campaign, member=member, occurrence_key=c.key, fired_at=now,
                    details={"occurrence": c.occurrence, **c.details})
    key_parts = ("campaign", campaign.pk, member.pk, c.key)
    if campaign.bonus_points:
        firing.points = campaign.bonus_points
        firing.transaction = loyalty.points_bonus(
            member=member, points=campaign.bonus_points, channel_id=system_channel,
            idempotency_key=derived_key(*key_parts), reason=f"Campaign: {campaign.name}",
            reference=f"campaign:{campaign.code}", details={"campaign": campaign.code, "occurrence": c.occurrence})
        spent[(campaign.pk, "points")] += campaign.bonus_points
        if campaign.budget_points is not None:  # the locked row, shared by this batch's firings of the campaign
            campaign.spent_points += campaign.bonus_points
    if campaign.reward_id:
        try:
            with transaction.atomic():
                firing.voucher = rewards.voucher_grant(member_id=member.pk, reward_code=campaign.reward.code,
                                                       grant_key=derived_key(*key_parts), now=now)
            spent[(campaign.pk, "vouchers")] += 1
            if campaign.budget_vouchers is not None:
                campaign.spent_vouchers += 1
        except ApplicationError as exc:  # the reward was withdrawn since: the other effects still apply
            firing.details["voucher_skipped"] = exc.message
    if campaign.boost_multiplier:
        loyalty.earn_boost_grant(member_id=member.pk, multiplier=campaign.boost_multiplier,
                                 grant_key=derived_key(*key_parts), reason=f"Campaign: {campaign.name}", now=now,
                                 expires_at=now + timedelta(days=campaign.boost_valid_days))
        firing.details["multiplier"] = str(campaign.boost_multiplier)
    if campaign.tag_id:
        insight.member_tag_attach(member=member, tag=campaign.tag)
    if campaign.message_text and not may_message:
        firing.details["message_skipped"] = "frequency_cap"
    firing.messaged = bool(campaign.message_text) and may_message
    if not firing.messaged:
        return firing, None
    payload = {"campaign": campaign.code, "subject": _text(campaign.message_subject, member.language),
               "text": _text(campaign.message_text, member.language), "points": firing.points,
               **({"multiplier": str(campaign.boost_multiplier)} if campaign.boost_multiplier else {})}
    if firing.voucher:
        payload |= {"voucher_code": firing.voucher.code, "reward_name": campaign.reward.name,
                    "date": firing.voucher.expires_at.date().isoformat()}
    if c.details.get("values"):
        payload["values"] = c.details["values"]
    return firing, payload


# What the batch's firings gave, added to their campaigns in one statement, in campaign-id order (the rows' lock
# order), at the end of the batch so the rows are held for as short a time as possible.
_SPENT = """
UPDATE {table} AS c SET spent_points = c.spent_points + u.points, spent_vouchers = c.spent_vouchers + u.vouchers
FROM (SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::integer[]) AS t(id, points, vouchers) ORDER BY id) AS u
WHERE c.id = u.id
"""


def _spent_add(spent: Counter) -> None:
    ids = sorted({campaign_id for campaign_id, _ in spent})
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(_SPENT.format(table=Campaign._meta.db_table), [
            ids, [spent[(i, "points")] for i in ids], [spent[(i, "vouchers")] for i in ids]])


def _period_counts(candidates: list[Candidate], member_ids: list[int], now: datetime) -> Counter:
    """Firings so far in the current period (the program's time zone) of the campaigns limited per member."""
    limited = {c.campaign.pk: c.campaign for c in candidates if c.campaign.limit_per_member}
    if not limited:
        return Counter()
    local = now.astimezone(program_zone())
    since = Q(pk__in=[])
    for campaign in limited.values():
        since |= Q(campaign_id=campaign.pk, fired_at__gte=period_start(campaign.limit_period, local))
    rows = (Firing.objects.filter(since, member_id__in=member_ids).values("campaign_id", "member_id")
            .annotate(n=Count("id")).values_list("campaign_id", "member_id", "n"))
    return Counter({(campaign_id, member_id): n for campaign_id, member_id, n in rows})


def _messages_sent(candidates: list[Candidate], member_ids: list[int], now: datetime) -> tuple[int | None, Counter]:
    """The program's frequency cap on campaign messages, and each member's messages within its days."""
    settings = CampaignSettings.current()
    if settings.message_cap is None or not any(c.campaign.message_text for c in candidates):
        return None, Counter()
    rows = (Firing.objects.filter(member_id__in=member_ids, messaged=True,
                                  fired_at__gt=now - timedelta(days=settings.message_cap_days))
            .values("member_id").annotate(n=Count("id")).values_list("member_id", "n"))
    return settings.message_cap, Counter(dict(rows))


def _within_budget(campaign: Campaign) -> bool:
    if campaign.budget_points is not None and campaign.spent_points + campaign.bonus_points > campaign.budget_points:
        return False
    return not (campaign.reward_id and campaign.budget_vouchers is not None
                and campaign.spent_vouchers + 1 > campaign.budget_vouchers)


def firings_apply(*, candidates: list[Candidate], now: datetime,
                  members: dict[int, Member] | None = None) -> list[Firing]:
    """Apply the candidates that meet their conditions, limits and budgets and did not fire before. A member in
    the campaign's control group gets a firing marked held out, with no effect. `members`: the candidates'
    members when the caller read them in this transaction already (else they are read here).

    A constant number of statements whatever the number of candidates, plus each firing's effects through the
    services of the apps below: the conditions' facts, the earlier firings, the limits' counts, then the firings
    in one insert, their campaigns' spending in one update and their messages in one more."""
    candidates = _meets_conditions(candidates, now)
    if not candidates:
        return []
    member_ids = sorted({c.member_id for c in candidates})
    with locks.members_locked(member_ids):
        budgeted = sorted({c.campaign.pk for c in candidates
                           if c.campaign.budget_points is not None or c.campaign.budget_vouchers is not None})
        fresh = ({c.pk: c for c in Campaign.objects.select_for_update().filter(pk__in=budgeted).order_by("pk")}
                 if budgeted else {})
        done = set(Firing.objects.filter(campaign_id__in={c.campaign.pk for c in candidates}, member_id__in=member_ids,
                                         occurrence_key__in={c.key for c in candidates})
                   .values_list("campaign_id", "member_id", "occurrence_key"))
        in_period = _period_counts(candidates, member_ids, now)
        cap, messaged = _messages_sent(candidates, member_ids, now)
        if members is None or not set(member_ids) <= members.keys():
            members = Member.objects.in_bulk(member_ids)
        system_channel = channel_id(Channel.SYSTEM)
        firings, payloads, spent = [], [], Counter()
        for c in sorted(candidates, key=lambda c: (c.campaign.pk, c.member_id, c.occurrence)):
            if c.campaign.pk in fresh:
                c.campaign = fresh[c.campaign.pk]  # the locked row: its spent points and vouchers are current
            campaign, member = c.campaign, members[c.member_id]
            if (campaign.pk, c.member_id, c.key) in done or member.status != Member.Status.ACTIVE:
                continue
            if campaign.limit_per_member and in_period[campaign.pk, c.member_id] >= campaign.limit_per_member:
                continue  # N firings per member in this period
            if held_out(campaign.pk, c.member_id, campaign.holdout_percent):
                done.add((campaign.pk, c.member_id, c.key))
                in_period[campaign.pk, c.member_id] += 1
                firings.append(Firing(campaign=campaign, member=member, occurrence_key=c.key, fired_at=now,
                                      held_out=True, details={"occurrence": c.occurrence, **c.details}))
                payloads.append(None)
                continue
            if not _within_budget(campaign):
                continue  # a budget is spent: the campaign stops paying
            done.add((campaign.pk, c.member_id, c.key))
            in_period[campaign.pk, c.member_id] += 1
            may_message = cap is None or messaged[c.member_id] < cap
            firing, payload = _fire(c, member, now, system_channel, may_message=may_message, spent=spent)
            firings.append(firing)
            payloads.append(payload)
            if payload is not None:
                messaged[c.member_id] += 1
        Firing.objects.bulk_create(firings)  # the unique (campaign, member, occurrence) backs the check above
        _spent_add(spent)
        notifications_record_many(messages=[
            Message(member_id=f.member_id, kind="campaign", payload=payload, dedupe_key=f"campaign:{f.pk}",
                    marketing=True) for f, payload in zip(firings, payloads, strict=True) if payload is not None])
    return firings


def _order_campaigns(now: datetime) -> list[Campaign]:
    """The active order campaigns, through the per-process settings cache (a campaign saved is forgotten at once in
    its process, within SETTINGS_CACHE_SECONDS in the others), so an order usually costs no query for them.
    Read-only: budgeted ones are read again under their row lock before they pay."""
    active = cached(ORDER_CAMPAIGNS, lambda: live_campaigns(trigger=Campaign.Trigger.ORDER, now=None))
    return [c for c in active if (c.starts_at is None or c.starts_at <= now) and (c.ends_at is None or c.ends_at > now)]


def order_campaigns_apply(*, order: Order, channel_id: int) -> list[Firing]:
    """The live order campaigns the order matches, applied once per order (the order flow calls this under the
    member's lock, in the order's transaction)."""
    now = timezone.now()
    candidates = [Candidate(campaign=c, member_id=order.member_id, occurrence=f"order:{order.pk}",
                            channel_id=channel_id, store=order.store, details={"order_id": order.order_id})
                  for c in _order_campaigns(now)
                  if c.order_min_amount is None or order.amount >= c.order_min_amount]
    return firings_apply(candidates=candidates, now=now)
