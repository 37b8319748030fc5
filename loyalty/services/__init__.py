"""The loyalty app's services: every write to the ledger goes through one of these."""

from .adjusting import points_adjust
from .earning import order_earn
from .refunds import order_get, order_refund
from .rules import LineInput
from .settling import points_settle_due
from .spending import member_lock, points_spend, points_spend_reverse

__all__ = [
    "LineInput", "member_lock", "order_earn", "order_get", "order_refund", "points_adjust", "points_settle_due", "points_spend",
    "points_spend_reverse",
]
