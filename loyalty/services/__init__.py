"""The loyalty app's services: every write to the ledger goes through one of these."""

from .adjusting import points_adjust
from .bonuses import members_lock, points_bonus, points_bonus_revoke
from .earning import order_earn
from .gifts import birthdays_gift_due, points_gift
from .refunds import order_get, order_refund
from .reminders import expiry_reminders_send
from .rules import LineInput
from .settling import points_settle_due
from .spending import member_lock, points_spend, points_spend_reverse

__all__ = [
    "birthdays_gift_due", "expiry_reminders_send", "points_gift",
    "LineInput", "member_lock", "members_lock", "order_earn", "order_get", "order_refund", "points_adjust", "points_bonus",
    "points_bonus_revoke", "points_settle_due", "points_spend", "points_spend_reverse",
]
