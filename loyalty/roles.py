"""Staff roles as groups, kept in step with the code after every migrate.

Clerk: look members up, read the ledger, adjust within the program's clerk limit.
Manager: everything a clerk does, unlimited adjustments, the program's settings, API keys, the audit log.
"""

CLERK = [
    "members.view_member", "members.change_member",
    "loyalty.view_transaction", "loyalty.view_lot", "loyalty.view_order", "loyalty.view_refund",
    "loyalty.view_programsettings", "loyalty.view_categorymultiplier", "loyalty.adjust_points",
    "rewards.view_redemption", "rewards.view_voucher", "rewards.view_reward", "rewards.view_cause",
    "referrals.view_referral", "referrals.view_referralcode", "referrals.view_program",
    "members.view_tier", "members.view_plan", "members.view_subscription", "members.view_tierchange",
    "members.view_notification", "loyalty.view_birthdaygift",
]
MANAGER = CLERK + [
    "members.add_member",
    "loyalty.adjust_points_unlimited", "loyalty.change_programsettings",
    "loyalty.add_categorymultiplier", "loyalty.change_categorymultiplier", "loyalty.delete_categorymultiplier",
    "core.view_channel", "core.add_channel", "core.view_apikey", "core.add_apikey", "core.change_apikey",
    "core.view_auditlog",
    "members.change_tierstatus", "members.add_tier", "members.change_tier", "members.add_plan", "members.change_plan",
    "members.view_membershipsettings", "members.change_membershipsettings",
    "rewards.add_reward", "rewards.change_reward", "rewards.add_cause", "rewards.change_cause", "rewards.void_voucher",
    "rewards.view_redemptionrules", "rewards.change_redemptionrules",
    "referrals.review_referral", "referrals.add_program", "referrals.change_program",
    "members.change_notification", "members.view_webhookendpoint", "members.add_webhookendpoint",
    "members.change_webhookendpoint",
]
ROLES = {"Clerk": CLERK, "Manager": MANAGER}


def sync_roles(**kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm:
                perms.append(perm)
        group.permissions.set(perms)
