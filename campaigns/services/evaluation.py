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

from django.db.models import Count, Q
from django.utils import timezone

from core.cache import cached
from core.models import Channel
from insight.models import MemberSegment
from loyalty import locks
from loyalty.models import Order
from loyalty.services.ledger import channel_id
from loyalty.services.rules import member_zone, program_zone
from members.models import Member, Subscription, TierStatus
from members.models.plans import LIVE as LIVE_PLANS
from members.services import notifications_record_many

from ..models import Campaign, CampaignSettings, Firing
from ..rules import MemberFacts, conditions_met, held_out, period_start
from .firings import Decided, firing_write, firings_write_many

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


def _within_budget(campaign: Campaign, issuing: set[int]) -> bool:
    """`issuing`: the rewards that issue a voucher now; a campaign whose reward was withdrawn grants none, so its
    voucher budget does not hold its points back."""
    if campaign.budget_points is not None and campaign.spent_points + campaign.bonus_points > campaign.budget_points:
        return False
    return not (campaign.reward_id in issuing and campaign.budget_vouchers is not None
                and campaign.spent_vouchers + 1 > campaign.budget_vouchers)


def _reserve(campaign: Campaign, issuing: set[int]) -> None:
    """Count a firing's cost against the locked row of a budgeted campaign, shared by this batch's firings of it."""
    if campaign.budget_points is not None:
        campaign.spent_points += campaign.bonus_points
    if campaign.reward_id in issuing and campaign.budget_vouchers is not None:
        campaign.spent_vouchers += 1


def _live_now(campaign: Campaign, now: datetime) -> bool:
    return campaign.active and (campaign.starts_at is None or campaign.starts_at <= now) and (
        campaign.ends_at is None or campaign.ends_at > now)


def _campaigns_now(candidates: list[Candidate], now: datetime) -> tuple[dict[int, Campaign], set[int]]:
    """The candidates' campaigns as they are now, under the members' locks: the budgeted ones locked (campaign-id
    order) so their spending is current, the others read (a campaign switched off or edited a moment ago, still in
    another process's cache, pays no more); and the rewards among them that issue a voucher now."""
    ids = {c.campaign.pk for c in candidates}
    budgeted = sorted({c.campaign.pk for c in candidates
                       if c.campaign.budget_points is not None or c.campaign.budget_vouchers is not None})
    rows = Campaign.objects.select_related("reward", "tag")
    current = ({c.pk: c for c in rows.select_for_update(of=("self",)).filter(pk__in=budgeted).order_by("pk")}
               if budgeted else {})
    if ids - current.keys():
        current |= rows.in_bulk(ids - current.keys())
    issuing = {c.reward_id for c in current.values() if c.reward_id and c.reward.active and c.reward.issues_voucher}
    return {pk: c for pk, c in current.items() if _live_now(c, now)}, issuing


def firings_apply(*, candidates: list[Candidate], now: datetime, set_based: bool = False) -> list[Firing]:
    """Apply the candidates that meet their conditions, limits and budgets and did not fire before. A member in
    the campaign's control group gets a firing marked held out, with no effect. `set_based` writes the batch's
    firings and their points in a fixed number of statements (`firings.firings_write_many`, for the batch jobs
    and event batches); else one firing at a time (an order: a firing or two)."""
    candidates = _meets_conditions(candidates, now)
    if not candidates:
        return []
    member_ids = sorted({c.member_id for c in candidates})
    with locks.members_locked(member_ids):
        fresh, issuing = _campaigns_now(candidates, now)
        done = set(Firing.objects.filter(campaign_id__in={c.campaign.pk for c in candidates}, member_id__in=member_ids,
                                         occurrence_key__in={c.key for c in candidates})
                   .values_list("campaign_id", "member_id", "occurrence_key"))
        in_period = _period_counts(candidates, member_ids, now)
        cap, messaged = _messages_sent(candidates, member_ids, now)
        members = Member.objects.in_bulk(member_ids)  # under the lock: a member closed or erased meanwhile gets nothing
        decided = []
        for c in sorted(candidates, key=lambda c: (c.campaign.pk, c.member_id, c.occurrence)):
            if c.campaign.pk not in fresh:
                continue  # switched off, ended or deleted since it was matched
            c.campaign = fresh[c.campaign.pk]  # as it is now (a budgeted one locked: its spending is current)
            campaign, member = c.campaign, members.get(c.member_id)
            if member is None or member.status != Member.Status.ACTIVE or (campaign.pk, c.member_id, c.key) in done:
                continue
            if campaign.limit_per_member and in_period[campaign.pk, c.member_id] >= campaign.limit_per_member:
                continue  # N firings per member in this period
            if held_out(campaign.pk, c.member_id, campaign.holdout_percent):
                done.add((campaign.pk, c.member_id, c.key))
                in_period[campaign.pk, c.member_id] += 1
                decided.append(Decided(candidate=c, member=member, held_out=True))
                continue
            if not _within_budget(campaign, issuing):
                continue  # a budget is spent: the campaign stops paying
            done.add((campaign.pk, c.member_id, c.key))
            in_period[campaign.pk, c.member_id] += 1
            may_message = cap is None or messaged[c.member_id] < cap
            if campaign.message_text and may_message:
                messaged[c.member_id] += 1
            _reserve(campaign, issuing)
            decided.append(Decided(candidate=c, member=member, may_message=may_message))
        if not decided:
            return []
        system_channel = channel_id(Channel.SYSTEM)
        if set_based:
            firings, messages = firings_write_many(decided, now=now, system_channel=system_channel)
        else:
            written = [firing_write(d, now=now, system_channel=system_channel) for d in decided]
            firings, messages = [f for f, _ in written], [m for _, m in written if m is not None]
        notifications_record_many(messages=messages)
    return firings


def _order_campaigns(now: datetime) -> list[Campaign]:
    """The active order campaigns, through the per-process settings cache (a campaign saved is forgotten at once in
    its process, within SETTINGS_CACHE_SECONDS in the others), so an order usually costs no query for them.
    Read-only: budgeted ones are read again under their row lock before they pay."""
    active = cached(ORDER_CAMPAIGNS, lambda: live_campaigns(trigger=Campaign.Trigger.ORDER, now=None))
    return [c for c in active if (c.starts_at is None or c.starts_at <= now) and (c.ends_at is None or c.ends_at > now)]


def order_campaigns_matching(*, amount, now: datetime) -> list[Campaign]:
    """The live order campaigns an order of `amount` matches (none: `order_campaigns_apply` does nothing)."""
    return [c for c in _order_campaigns(now) if c.order_min_amount is None or amount >= c.order_min_amount]


def order_campaigns_apply(*, order: Order, channel_id: int) -> list[Firing]:
    """The live order campaigns the order matches, applied once per order (the order flow calls this under the
    member's lock, in the order's transaction)."""
    now = timezone.now()
    candidates = [Candidate(campaign=c, member_id=order.member_id, occurrence=f"order:{order.pk}",
                            channel_id=channel_id, store=order.store, details={"order_id": order.order_id})
                  for c in order_campaigns_matching(amount=order.amount, now=now)]
    return firings_apply(candidates=candidates, now=now)
