"""The back office's admin site: the program's name in the header, and the managers' dashboard.

The dashboard reads the ledger and the apps' tables with set-based queries only (aggregates grouped in the
database; no loop over members), so its cost does not grow with a Python loop over the program's size. What
would scan every member or the whole ledger on each view (the segments' counts, the lifetime-value buckets, the
points of past days) comes from the snapshots the nightly run stores (insight.dashboard); its insight charts are
partial templates (insight/templates/insight/charts/), each with a CSV download.
"""

import csv
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from unfold.sites import UnfoldAdminSite

from core.replica import replica_reads

DASHBOARD_PERMISSION = "loyalty.change_programsettings"
"""Who sees the dashboard: the managers (who run the program's settings)."""

JOB_NAMES = [  # the job schedules' names (rows the migrations write), so the dashboard can show them translated
    gettext_noop("Birthday gifts"),
    gettext_noop("Birthday vouchers"),
    gettext_noop("Campaigns: birthday, anniversary and fixed-date triggers"),
    gettext_noop("Campaigns: event partitions and retention"),
    gettext_noop("Campaigns: stage and tier changes"),
    gettext_noop("Deliver pending notifications (e-mail, webhooks)"),
    gettext_noop("End paid memberships past their period"),
    gettext_noop("Evaluate tiers (downgrades, warnings)"),
    gettext_noop("Expire due points and release pending points"),
    gettext_noop("Insight: CLV model fit"),
    gettext_noop("Insight: metric snapshots"),
    gettext_noop("Insight: segments"),
    gettext_noop("Ledger check"),
    gettext_noop("Paid membership reminders"),
    gettext_noop("Points expiry reminders"),
    gettext_noop("Release lapsed checkout holds"),
    gettext_noop("Resume bulk adjustments"),
    gettext_noop("Voucher expiry reminders"),
]

FUNNEL = {  # the referral funnel's steps, in the staff's language
    "pending": _("Attached, waiting for the first order"), "qualified": _("Qualified, not rewarded (a cap)"),
    "rewarded": _("Rewarded"), "held_for_review": _("Held for review"), "rejected": _("Rejected"),
    "reversed": _("Reversed (order refunded)"),
}


class OfficeAdminSite(UnfoldAdminSite):
    """Django's admin site with unfold's theme (sidebar, language switch, styled forms); same URLs and permissions."""

    site_header = _("Loyalty back office")
    site_title = _("Loyalty back office")
    index_title = _("Back office")
    index_template = "admin/office/index.html"

    def each_context(self, request):
        from loyalty.models import ProgramSettings

        context = super().each_context(request)
        name = ProgramSettings.current().name
        context.update(site_header=name, site_title=name,
                       may_see_dashboard=bool(getattr(request, "user", None)
                                              and request.user.has_perm(DASHBOARD_PERMISSION)))
        return context

    def login(self, request, extra_context=None):
        # The theme's login form carries no "next" field: signed in from /admin/login/ itself, staff land on the
        # back office's home page, not on Django's /accounts/profile/ (which does not exist here).
        if "next" not in request.GET and "next" not in request.POST:
            request.GET = request.GET.copy()
            request.GET["next"] = reverse(f"{self.name}:index")
        return super().login(request, extra_context)

    def get_urls(self):
        return [path("dashboard/", self.admin_view(self.dashboard_view), name="dashboard"),
                path("dashboard/charts/<slug:key>.csv", self.admin_view(self.chart_csv_view), name="dashboard_chart_csv"),
                *super().get_urls()]

    def index(self, request, extra_context=None):
        extra = {"dashboard": dashboard_summary()} if request.user.has_perm(DASHBOARD_PERMISSION) else {}
        return super().index(request, {**extra, **(extra_context or {})})

    def dashboard_view(self, request):
        if not request.user.has_perm(DASHBOARD_PERMISSION):
            raise PermissionDenied
        with replica_reads():  # figures of the whole program: a moment of replication lag is harmless
            context = {**self.each_context(request), "title": gettext("Program dashboard"), **dashboard_data(),
                       "charts": insight_charts()}
            return render(request, "admin/office/dashboard.html", context)

    def chart_csv_view(self, request, key: str):
        """One insight chart's data as CSV (UTF-8 with a byte-order mark, so spreadsheets read the Chinese)."""
        from insight.dashboard import chart_get

        if not request.user.has_perm(DASHBOARD_PERMISSION):
            raise PermissionDenied
        chart = chart_get(key=key)
        if chart is None:
            raise Http404
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{key}.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow([str(c) for c in chart.columns])
        writer.writerows([["" if v is None else v for v in row] for row in chart.rows])
        return response


def insight_charts() -> dict:
    """The insight charts (funnel, value tiers, loyalty types, NPS, cohorts, lifetime value), each with its CSV link;
    a fixed handful of grouped queries whatever the number of members."""
    from insight.dashboard import dashboard_charts

    charts = dashboard_charts()
    for chart in charts:
        chart.csv_url = reverse("admin:dashboard_chart_csv", args=[chart.key])
    return {chart.key: chart for chart in charts}


def _liability(points: dict) -> dict:
    from rewards.models import RedemptionRules

    total = points["available"] + points["pending"]
    per_unit = RedemptionRules.current().points_per_unit or 1
    money = (Decimal(total) / Decimal(per_unit)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {**points, "points": total, "money": money, "points_per_unit": per_unit}


def dashboard_summary() -> dict:
    """The few numbers shown on the admin's home page."""
    from insight.dashboard import program_summary
    from loyalty.models import ProgramSettings
    from members.models import Notification
    from referrals.models import Referral

    summary = program_summary()
    return {
        "liability": _liability(summary["points"]),
        "currency": ProgramSettings.current().currency,
        "active_members": summary["members"]["active"],
        "held_referrals": Referral.objects.filter(status=Referral.Status.HELD).count(),
        "failed_notifications": Notification.objects.filter(
            status__in=[Notification.Status.FAILED, Notification.Status.DEAD]).count(),
    }


def weekly_points(*, weeks: int = 12, now=None) -> list[dict]:
    """Points issued, redeemed and expired per week, the last `weeks` weeks (oldest first): the days before last
    night from the nightly snapshot, today's from the ledger (insight.dashboard.points_per_day)."""
    from insight.dashboard import points_per_day

    now = now or timezone.now()
    this_week = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start = this_week - timedelta(weeks=weeks - 1)
    by_week: dict = {}
    for day, (issued, redeemed, expired) in points_per_day(start=start, now=now).items():
        week = by_week.setdefault(day - timedelta(days=day.weekday()), {"issued": 0, "redeemed": 0, "expired": 0})
        week["issued"] += issued
        week["redeemed"] += redeemed
        week["expired"] += expired
    out = []
    for n in range(weeks):
        day = (start + timedelta(weeks=n)).date()
        r = by_week.get(day, {})
        out.append({"week": day, "issued": r.get("issued", 0), "redeemed": r.get("redeemed", 0),
                    "expired": r.get("expired", 0)})
    top = max([1, *(max(w["issued"], w["redeemed"], w["expired"]) for w in out)])
    for w in out:  # bar heights in percent of the tallest bar
        w.update({f"{k}_pct": round(100 * w[k] / top) for k in ("issued", "redeemed", "expired")})
    return out


def dashboard_data() -> dict:
    from django_celery_beat.models import PeriodicTask

    from insight.dashboard import program_summary
    from loyalty.models import ProgramSettings
    from members.models import Notification, Tier
    from referrals.models import Referral

    weeks = weekly_points()
    summary = program_summary()
    issued = sum(w["issued"] for w in weeks)
    redeemed = sum(w["redeemed"] for w in weeks)
    expired = sum(w["expired"] for w in weeks)
    members = summary["members"]
    tiers = [{"tier__name": tier.name, "tier__rank": tier.rank, "n": summary["tiers"][tier.pk]}
             for tier in Tier.objects.filter(pk__in=summary["tiers"]).order_by("rank") if summary["tiers"][tier.pk]]
    in_tiers = sum(t["n"] for t in tiers)
    funnel = summary["referrals"]
    notifications = dict(Notification.objects.filter(status__in=[Notification.Status.FAILED, Notification.Status.DEAD])
                         .values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {
        "weeks": weeks, "issued": issued, "redeemed": redeemed, "expired": expired,
        "redemption_rate": round(100 * redeemed / issued, 1) if issued else None,
        "breakage_rate": round(100 * expired / issued, 1) if issued else None,
        "liability": _liability(summary["points"]), "currency": ProgramSettings.current().currency,
        "members": members,
        "tiers": [*tiers, {"tier__name": gettext("No tier"), "n": members["all"] - in_tiers}],
        "funnel": [(FUNNEL.get(value, label), funnel.get(value, 0)) for value, label in Referral.Status.choices],
        "attached": sum(funnel.values()),
        "notifications": {"failed": notifications.get("failed", 0), "dead": notifications.get("dead", 0)},
        "jobs": [{**job, "label": gettext(job["name"])} for job in
                 PeriodicTask.objects.order_by("name").values("name", "enabled", "last_run_at", "total_run_count")],
    }
