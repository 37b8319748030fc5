"""Staff roles as groups, kept in step with the code after every migrate.

Clerk: look members up, read the ledger, adjust within the program's clerk limit; at the counter, record a
walk-in purchase, use and void vouchers, cancel redemptions.
Manager: everything a clerk does, unlimited adjustments, members' status, the program's settings, referral
programs with their steps, the job schedules, API keys, the audit log and the History of data changes.
"""

EXTRA_PERMISSIONS = {
    # Staff permissions that hold no data of their own, created with the roles: (app_label, model) -> codenames.
    ("members", "member"): {"change_member_status": "Can change a member's status (with a reason)",
                            "export_member_data": "Can export all personal data of a member",
                            "erase_member": "Can erase a member's personal data (with a reason)",
                            "import_member": "Can import members and opening balances",
                            "export_member": "Can export members"},
    ("loyalty", "transaction"): {"export_transaction": "Can export the ledger"},
    ("insight", "historicalorder"): {"import_historicalorder": "Can import the order history"},
    ("insight", "membersegment"): {"export_membersegment": "Can export a segment's members"},
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
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    for (app_label, model), codenames in EXTRA_PERMISSIONS.items():
        content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
        for codename, name in (codenames.items() if content_type else ()):
            Permission.objects.get_or_create(content_type=content_type, codename=codename, defaults={"name": name})
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm:
                perms.append(perm)
        group.permissions.set(perms)
