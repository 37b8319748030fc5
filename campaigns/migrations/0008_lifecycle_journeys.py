"""The lifecycle journeys, shipped as ready campaigns (inactive): staff edit and switch them on. Two need one choice
first (the admin refuses to save them without it): the save offer its churn-risk tag (e.g. a rule tag "days since
the last order >= 45"), the high-potential coupon its event type and, if wanted, the coupon reward."""

from django.db import migrations


def journeys():
    return [
        dict(code="journey-welcome", journey="welcome", name="Welcome new members · 欢迎新会员",
             trigger="stage_change", to_stage="prospect", bonus_points=100,
             message_subject={"en": "Welcome to the club", "zh-hans": "欢迎加入会员"},
             message_text={"en": "Welcome! Here are 100 points to start with.", "zh-hans": "欢迎您！送您 100 积分作为见面礼。"}),
        dict(code="journey-second-purchase", journey="second_purchase", name="Second-purchase nudge · 二次购买激励",
             trigger="stage_change", to_stage="new", boost_multiplier=2, boost_valid_days=30,
             message_subject={"en": "Double points on your next order", "zh-hans": "下一单双倍积分"},
             message_text={"en": "Thank you for your first order: your next one within 30 days earns double points.",
                           "zh-hans": "感谢您的首次购买：30 天内的下一笔订单可获得双倍积分。"}),
        dict(code="journey-win-back", journey="win_back", name="Win back dormant members · 唤醒沉睡客户",
             trigger="stage_change", to_stage="dormant", bonus_points=200, once_per_member=False,
             limit_per_member=1, limit_period="month",
             message_subject={"en": "We miss you", "zh-hans": "好久不见"},
             message_text={"en": "We miss you: here are 200 points to come back.",
                           "zh-hans": "我们想念您：送您 200 积分，欢迎回来。"}),
        dict(code="journey-save-offer", journey="save_offer", name="Save offer at high churn risk · 高流失风险挽留",
             trigger="tag_entered", value_tiers=["high", "general"], bonus_points=300, once_per_member=False,
             limit_per_member=1, limit_period="month",
             message_subject={"en": "A gift to keep you with us", "zh-hans": "一份心意，期待您再次光临"},
             message_text={"en": "We would hate to see you go: 300 points are waiting for your next visit.",
                           "zh-hans": "舍不得您离开：300 积分已为您备好，期待您的下次光临。"}),
        dict(code="journey-tier-upgrade", journey="tier_upgrade", name="Tier upgrade congratulation · 升级祝贺",
             trigger="tier_change", upgrades_only=True, once_per_member=False,
             message_subject={"en": "Congratulations on your new tier", "zh-hans": "恭喜您会员升级"},
             message_text={"en": "Congratulations: you reached a new tier, with its benefits from today.",
                           "zh-hans": "恭喜您升级！新等级的权益即日起生效。"}),
        dict(code="journey-tier-warning", journey="tier_warning", name="Before a downgrade · 降级前提醒",
             trigger="tier_warning", boost_multiplier=2, boost_valid_days=14, once_per_member=False),
        dict(code="journey-high-potential", journey="high_potential",
             name="High-potential new user coupon · 高潜力新用户优惠券", trigger="event_count", event_count=11,
             window="after_sign_up", window_hours=24, collect_attribute="course_id",
             message_subject={"en": "A coupon for the courses you looked at", "zh-hans": "您浏览课程的专属优惠券"},
             message_text={"en": "You looked at many courses on your first day: here is a coupon for them.",
                           "zh-hans": "您在注册首日浏览了多门课程，送您一张课程优惠券。"}),
    ]


def forward(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    for fields in journeys():
        code = fields.pop("code")
        Campaign.objects.get_or_create(code=code, defaults={"active": False, **fields})


def backward(apps, schema_editor):
    apps.get_model("campaigns", "Campaign").objects.filter(code__in=[j["code"] for j in journeys()],
                                                           firings__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [("campaigns", "0007_tier_warning_trigger_upgrades_only_journey")]

    operations = [migrations.RunPython(forward, backward)]
