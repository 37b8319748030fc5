"""The error codes that rewards' services answer with (values are the API contract: shops code against them).

The redemption rules' refusals (rules.py) use these codes too, besides members' member_inactive and loyalty's
insufficient_points."""

from enum import StrEnum


class RewardsErrorCode(StrEnum):
    REWARD_NOT_FOUND = "reward_not_found"
    REDEMPTION_NOT_FOUND = "redemption_not_found"
    # Refusals of the redemption rules
    REWARD_INACTIVE = "reward_inactive"
    REWARD_NOT_YET_VALID = "reward_not_yet_valid"
    REWARD_EXPIRED = "reward_expired"
    TIER_REQUIRED = "tier_required"
    PLAN_REQUIRED = "plan_required"
    OUT_OF_STOCK = "out_of_stock"
    MEMBER_LIMIT_REACHED = "member_limit_reached"
    PERIOD_LIMIT_REACHED = "period_limit_reached"
    GLOBAL_LIMIT_REACHED = "global_limit_reached"
    MIN_BALANCE = "min_balance"
    MIN_ORDER_VALUE = "min_order_value"
    MAX_ORDER_SHARE = "max_order_share"
    # Checkout holds
    HOLD_EXISTS = "hold_exists"
    NOT_A_HOLD = "not_a_hold"
    HOLD_EXPIRED = "hold_expired"
    HOLD_NOT_ACTIVE = "hold_not_active"
    # Vouchers
    VOUCHER_NOT_FOUND = "voucher_not_found"
    VOUCHER_ALREADY_REDEEMED = "voucher_already_redeemed"
    VOUCHER_VOID = "voucher_void"
    VOUCHER_EXPIRED = "voucher_expired"
    VOUCHER_NOT_ISSUED = "voucher_not_issued"
