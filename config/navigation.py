"""The back office's sidebar, grouped for the work: the counter, the ledger, the program, insight, campaigns and
operations. Each link is shown only to staff who may open it (the model admin's own view/change permission, or the
dashboard's), so no link in the sidebar leads to a 403. Titles are the models' names, in the staff's language.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from config.office import DASHBOARD_PERMISSION

GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    # (group title, [(app_label.model_name, material symbol icon)])
    (_("Counter"), [("members.member", "person_search"), ("rewards.voucher", "confirmation_number"),
                    ("rewards.redemption", "redeem"), ("referrals.referral", "group_add"),
                    ("loyalty.order", "receipt_long")]),
    (_("Ledger"), [("loyalty.transaction", "account_balance_wallet"), ("loyalty.lot", "inventory_2"),
                   ("loyalty.refund", "undo"), ("loyalty.birthdaygift", "cake"),
                   ("loyalty.ledgercheck", "fact_check")]),
    (_("Program"), [("loyalty.programsettings", "tune"), ("rewards.redemptionrules", "rule"),
                    ("loyalty.categorymultiplier", "category"), ("members.membershipsettings", "settings"),
                    ("members.tier", "military_tech"), ("members.tierchange", "trending_up"),
                    ("members.plan", "workspace_premium"), ("members.subscription", "card_membership"),
                    ("rewards.reward", "featured_seasonal_and_gifts"), ("rewards.cause", "volunteer_activism"),
                    ("referrals.program", "share"), ("referrals.referralcode", "qr_code")]),
    (_("Insight"), [("insight.insightsettings", "settings_suggest"), ("insight.memberfacts", "badge"),
                    ("insight.membersegment", "donut_small"), ("insight.stagechange", "timeline"),
                    ("insight.metricsnapshot", "monitoring"), ("insight.clvmodel", "functions"),
                    ("insight.survey", "quiz"), ("insight.surveyanswer", "question_answer"),
                    ("insight.tag", "sell"), ("insight.membertag", "label"),
                    ("insight.historicalorder", "history")]),
    (_("Campaigns"), [("campaigns.campaign", "campaign"), ("campaigns.eventtype", "bolt"),
                      ("campaigns.event", "event_note"), ("campaigns.firing", "send")]),
    (_("Operations"), [("django_celery_beat.periodictask", "schedule"),
                       ("django_celery_beat.crontabschedule", "calendar_month"),
                       ("django_celery_beat.intervalschedule", "timer"),
                       ("django_celery_beat.clockedschedule", "alarm"),
                       ("django_celery_beat.solarschedule", "wb_sunny"),
                       ("members.notification", "outbox"), ("members.webhookendpoint", "webhook"),
                       ("core.channel", "hub"), ("core.apikey", "key"), ("core.auditlog", "policy"),
                       ("auth.user", "manage_accounts"), ("auth.group", "groups")]),
]


def _may_open(model_admin):
    def check(request) -> bool:
        return bool(request.user.is_active and request.user.is_staff
                    and model_admin.has_view_or_change_permission(request))
    return check


def sidebar(request) -> list[dict]:
    """UNFOLD["SIDEBAR"]["navigation"]: the groups, with only the models registered on the site."""
    site = admin.site
    registry = {model._meta.label_lower: (model, model_admin) for model, model_admin in site._registry.items()}
    home = [{"title": _("Home"), "icon": "home", "link": reverse(f"{site.name}:index")},
            {"title": _("Program dashboard"), "icon": "dashboard", "link": reverse(f"{site.name}:dashboard"),
             "permission": lambda request: request.user.has_perm(DASHBOARD_PERMISSION)}]
    groups = [{"items": home}]
    listed = set()
    for title, entries in GROUPS:
        items = []
        for label, icon in entries:
            if label not in registry:
                continue
            model, model_admin = registry[label]
            listed.add(label)
            opts = model._meta
            items.append({"title": capfirst(opts.verbose_name_plural), "icon": icon,
                          "link": reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist"),
                          "permission": _may_open(model_admin)})
        groups.append({"title": title, "collapsible": False, "items": items})
    others = [(label, model, model_admin) for label, (model, model_admin) in registry.items() if label not in listed]
    if others:  # a model another change registers before it has a place above: still reachable
        groups.append({"title": _("Other"), "items": [
            {"title": capfirst(model._meta.verbose_name_plural), "icon": "table",
             "link": reverse(f"{site.name}:{model._meta.app_label}_{model._meta.model_name}_changelist"),
             "permission": _may_open(model_admin)} for label, model, model_admin in sorted(others)]})
    return groups
