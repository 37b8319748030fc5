from .checkout import checkout_confirm, checkout_hold, checkout_release, holds_expire_due, order_paid_points_return
from .gifts import birthday_vouchers_issue, voucher_reminders_send
from .redemptions import redemption_create, redemption_get, redemption_reverse, reward_get, reward_redeem
from .rules import Refusal, max_points_for_order, points_value, rules_check
from .vouchers import voucher_get, voucher_grant, voucher_problem, voucher_redeem, voucher_void, vouchers_grant_many

__all__ = [
    "Refusal", "birthday_vouchers_issue", "checkout_confirm", "checkout_hold", "checkout_release", "holds_expire_due",
    "max_points_for_order", "order_paid_points_return", "points_value", "redemption_create", "redemption_reverse",
    "redemption_get", "reward_get", "reward_redeem", "rules_check", "voucher_get", "voucher_grant", "voucher_problem",
    "voucher_redeem", "voucher_reminders_send", "voucher_void", "vouchers_grant_many",
]
