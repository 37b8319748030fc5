"""The loyalty app's services: every write to the ledger goes through one of these. Except `points_adjust`
and the jobs, they write under ledger locks their caller took through loyalty.locks."""

from .adjusting import bulk_adjustment_create, bulk_adjustment_run, bulk_adjustments_unfinished, points_adjust
from .bonuses import points_bonus, points_bonus_many
from .boosts import earn_boost_grant
from .checking import ledger_check_record, ledger_drift
from .earning import CreditLine, order_earn
from .gifts import birthdays_gift_due, points_gift
from .opening import opening_balances_give, opening_balances_given
from .refunds import (
    order_get,
    order_lock,
    order_points_take_back,
    points_bonus_revoke,
    refund_amount_validate,
)
from .reminders import expiry_reminders_send
from .rules import LineInput
from .settling import points_settle_due
from .spending import points_spend, points_spend_reverse

__all__ = [
    "birthdays_gift_due", "bulk_adjustment_create", "CreditLine", "bulk_adjustment_run", "bulk_adjustments_unfinished",
    "earn_boost_grant", "expiry_reminders_send", "ledger_check_record", "ledger_drift", "points_gift",
    "LineInput", "opening_balances_give", "opening_balances_given", "order_earn", "order_get",
    "order_lock", "order_points_take_back", "points_adjust", "points_bonus", "points_bonus_many", "points_bonus_revoke",
    "points_settle_due", "points_spend", "points_spend_reverse", "refund_amount_validate",
]
