"""Reads of insight: a member's insight, the segments' counts and members."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Max
from django.utils import timezone

from members.models import Member

from . import clv
from .models import ClvModel, InsightSettings, MemberFacts, MemberSegment, MemberTag, StageChange, Tag
from .rules import weeks_between
from .services.metrics import SEGMENT_CHOICES, SEGMENT_COLUMNS, segment_parse

YEAR_SECONDS = 365.25 * 86400


def _money(value) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def clv_estimate(*, facts: MemberFacts | None, model: ClvModel | None, settings: InsightSettings,
                 now: datetime) -> dict:
    """Simple CLV = average order value x orders a year (net orders over the years since the first order, at least
    one year) x expected lifetime; model CLV = BG/NBD expected orders in the horizon x Gamma-Gamma expected spend;
    P(alive) from BG/NBD, churn risk = 1 - P(alive)."""
    out = {"simple": None, "model": None, "p_alive": None, "churn_risk": None, "expected_orders": None,
           "horizon_weeks": settings.clv_horizon_weeks}
    if facts is None or not facts.first_order_at or facts.net_orders <= 0:
        return out
    years = max((now - facts.first_order_at).total_seconds() / YEAR_SECONDS, 1.0)
    aov = facts.average_order_value
    out["simple"] = _money(aov * Decimal(facts.net_orders / years) * settings.expected_lifetime_years)
    if model is None:
        return out
    bg = clv.BgNbd(r=model.r, alpha=model.alpha, a=model.a, b=model.b)
    x = facts.orders_count - 1
    t_x, T = weeks_between(facts.first_order_at, facts.last_order_at), weeks_between(facts.first_order_at, now)
    alive = float(clv.p_alive(bg, x, t_x, T))
    expected = float(clv.expected_purchases(bg, settings.clv_horizon_weeks, x, t_x, T))
    out.update(p_alive=round(alive, 4), churn_risk=round(1 - alive, 4), expected_orders=round(expected, 3))
    if model.p is not None:
        spend = float(clv.expected_spend(clv.GammaGamma(p=model.p, q=model.q, gamma=model.gamma), x, float(aov)))
        out["model"] = _money(expected * spend)
    return out


def member_insight(*, member: Member, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    facts = MemberFacts.objects.filter(member=member).first()
    segment = MemberSegment.objects.filter(member=member).first()
    model = ClvModel.objects.order_by("-fitted_at").first()
    return {
        "member": member.external_id,
        "stage": segment.stage if segment else None,
        "stage_since": segment.stage_since if segment else None,
        "value_tier": segment.value_tier if segment else None,
        "loyalty_type": segment.loyalty_type if segment else None,
        "rfm": {"recency": segment.recency, "frequency": segment.frequency, "monetary": segment.monetary}
        if segment else None,
        "computed_on": segment.computed_on if segment else None,
        "tags": list(member.tags.order_by("tag__code").values_list("tag__code", flat=True)),
        "facts": {
            "first_order_at": facts.first_order_at, "last_order_at": facts.last_order_at,
            "orders_count": facts.orders_count, "refunded_orders": facts.refunded_orders,
            "spend": _money(facts.spend), "average_order_value": _money(facts.average_order_value),
            "categories": facts.categories, "categories_count": facts.categories_count,
            "mean_days_between_orders": facts.mean_days_between_orders,
            "last_nps": facts.last_nps, "last_cli": None if facts.last_cli is None else str(facts.last_cli),
        } if facts else None,
        "clv": clv_estimate(facts=facts, model=model, settings=InsightSettings.current(), now=now),
        "stage_changes": list(StageChange.objects.filter(member=member).order_by("-changed_at")[:10].values(
            "from_stage", "to_stage", "changed_at")),
    }


def segment_counts() -> dict:
    """How many members are in each segment of each kind (tags included), as of the last nightly run."""
    counts = {}
    for kind, column in SEGMENT_COLUMNS.items():
        found = dict(MemberSegment.objects.values_list(column).annotate(n=Count("pk")).order_by())
        counts[kind] = [{"segment": f"{kind}:{value}", "label": str(label), "members": found.get(value, 0)}
                        for value, label in SEGMENT_CHOICES[kind]]
    counts["tag"] = [{"segment": f"tag:{code}", "label": name, "members": n} for code, name, n in
                     Tag.objects.annotate(n=Count("members")).order_by("code").values_list("code", "name", "n")]
    return {"computed_on": MemberSegment.objects.aggregate(at=Max("computed_on"))["at"], "segments": counts}


def segment_member_ids(*, segment: str):
    """The ids of a segment's members as a query (one column), for the set-based writes of the apps below; an
    unknown segment is a 404."""
    kind, value, _ = segment_parse(segment)
    if kind == "tag":
        return MemberTag.objects.filter(tag__code=value).values("member_id")
    return MemberSegment.objects.filter(**{SEGMENT_COLUMNS[kind]: value}).values("member_id")


def segment_members(*, segment: str, after: int = 0, limit: int = 100) -> tuple[list[dict], int | None]:
    """A page of a segment's members in member-id order (keyset: pass the returned cursor as `after`)."""
    kind, value, _ = segment_parse(segment)
    members = (MemberSegment.objects.filter(member__tags__tag__code=value) if kind == "tag"
               else MemberSegment.objects.filter(**{SEGMENT_COLUMNS[kind]: value}))
    rows = list(members.filter(member_id__gt=after).order_by("member_id")
                .values("member_id", "member__external_id", "stage", "value_tier", "loyalty_type")[:limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return ([{"member": r["member__external_id"], "stage": r["stage"], "value_tier": r["value_tier"],
              "loyalty_type": r["loyalty_type"]} for r in rows], rows[-1]["member_id"] if more else None)


def member_list(*, segment: str = "", after: int = 0, limit: int = 100) -> dict:
    """The members in member-id order, all or one segment's (as of the last nightly run), with how many there are:
    a page after the member id `after` (keyset; `next` is the cursor of the page after, or None). An unknown segment
    is a 404."""
    members = Member.objects.all()
    if segment:
        kind, value, _ = segment_parse(segment)
        members = (members.filter(tags__tag__code=value) if kind == "tag"
                   else members.filter(**{f"segment__{SEGMENT_COLUMNS[kind]}": value}))
    rows = list(members.filter(pk__gt=after).order_by("pk").values(
        "pk", "external_id", "status", "joined_at", "segment__stage", "segment__value_tier",
        "segment__loyalty_type")[:limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"segment": segment or None, "count": members.count(),
            "results": [{"member": r["external_id"], "status": r["status"], "joined_at": r["joined_at"],
                         "stage": r["segment__stage"], "value_tier": r["segment__value_tier"],
                         "loyalty_type": r["segment__loyalty_type"]} for r in rows],
            "next": rows[-1]["pk"] if more else None}
