"""Staff roles as groups, kept in step with the code after every migrate.

Clerk: look members up, read the ledger, adjust within the program's clerk limit; at the counter, record a
walk-in purchase, use and void vouchers, cancel redemptions.
Manager: everything a clerk does, unlimited adjustments, members' status, the program's settings, referral
programs with their steps, the job schedules, API keys, the audit log and the History of data changes.
"""

from django.utils.translation import gettext_noop

# Stored in English as Django stores its own; shown in the staff's language (core.admin.permission_label).
EXTRA_PERMISSIONS = {
    # Staff permissions that hold no data of their own, created with the roles: (app_label, model) -> codenames.
    ("members", "member"): {"change_member_status": gettext_noop("Can change a member's status (with a reason)"),
                            "export_member_data": gettext_noop("Can export all personal data of a member"),
                            "erase_member": gettext_noop("Can erase a member's personal data (with a reason)"),
                            "import_member": gettext_noop("Can import members and opening balances"),
                            "export_member": gettext_noop("Can export members")},
    ("loyalty", "transaction"): {"export_transaction": gettext_noop("Can export the ledger")},
    ("insight", "historicalorder"): {"import_historicalorder": gettext_noop("Can import the order history")},
    ("insight", "membersegment"): {"export_membersegment": gettext_noop("Can export a segment's members")},
}

CLERK = [
    "members.view_member", "members.change_member",
    "loyalty.view_transaction", "loyalty.view_lot", "loyalty.view_order", "loyalty.view_refund",
    "loyalty.view_programsettings", "loyalty.view_categorymultiplier", "loyalty.adjust_points",
    "rewards.view_redemption", "rewards.view_voucher", "rewards.view_reward", "rewards.view_cause",
    "referrals.view_referral", "referrals.view_referralcode", "referrals.view_program",
    "members.view_tier", "members.view_plan", "members.view_subscription", "members.view_tierchange",
    "members.view_notification", "loyalty.view_birthdaygift",
    "loyalty.add_order", "rewards.change_voucher", "rewards.void_voucher", "rewards.change_redemption",
    "referrals.view_programstep",
]
MANAGER = CLERK + [
    "members.add_member",
    "loyalty.adjust_points_unlimited", "loyalty.change_programsettings",
    "loyalty.add_categorymultiplier", "loyalty.change_categorymultiplier", "loyalty.delete_categorymultiplier",
    "core.view_channel", "core.add_channel", "core.view_apikey", "core.add_apikey", "core.change_apikey",
    "core.view_auditlog", "core.view_datachange",
    "members.change_tierstatus", "members.add_tier", "members.change_tier", "members.add_plan", "members.change_plan",
    "members.view_membershipsettings", "members.change_membershipsettings",
    "rewards.add_reward", "rewards.change_reward", "rewards.add_cause", "rewards.change_cause", "rewards.void_voucher",
    "rewards.view_redemptionrules", "rewards.change_redemptionrules",
    "referrals.review_referral", "referrals.add_program", "referrals.change_program",
    "members.change_notification", "members.view_webhookendpoint", "members.add_webhookendpoint",
    "members.change_webhookendpoint",
    "members.change_member_status", "members.export_member_data", "members.erase_member",
    "members.import_member", "members.export_member", "loyalty.export_transaction", "insight.import_historicalorder",
    "insight.export_membersegment",
    "referrals.add_programstep", "referrals.change_programstep", "referrals.delete_programstep",
    *[f"campaigns.{action}_{model}" for action in ("view", "add", "change") for model in ("eventtype", "campaign")],
    "campaigns.view_event", "campaigns.view_firing",
    *[f"django_celery_beat.{action}_{model}" for action in ("view", "add", "change", "delete")
      for model in ("periodictask", "crontabschedule", "intervalschedule", "clockedschedule", "solarschedule")],
]
ROLES = {"Clerk": CLERK, "Manager": MANAGER}


def sync_roles(**kwargs) -> None:
    """After the last app's post_migrate (every app's content types and permissions exist by then), in a handful of
    queries: migrate and every transactional test's flush emit the signal once per app."""
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if kwargs.get("app_config") is not None and kwargs["app_config"] is not with_models[-1]:
        return
    using = kwargs.get("using", "default")
    types = {(t.app_label, t.model): t for t in ContentType.objects.using(using).filter(
        Q(*[Q(app_label=a, model=m) for a, m in EXTRA_PERMISSIONS], _connector=Q.OR))}
    Permission.objects.using(using).bulk_create(
        [Permission(content_type=types[key], codename=codename, name=name)
         for key, codenames in EXTRA_PERMISSIONS.items() if key in types for codename, name in codenames.items()],
        ignore_conflicts=True)
    wanted = {tuple(dotted.split(".")) for codenames in ROLES.values() for dotted in codenames}
    found = {(p.content_type.app_label, p.codename): p for p in Permission.objects.using(using).select_related(
        "content_type").filter(codename__in={codename for _, codename in wanted})}
    for name, codenames in ROLES.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set([found[key] for key in (tuple(d.split(".")) for d in codenames) if key in found])
