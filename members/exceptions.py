"""The error codes that members' services answer with (values are the API contract: shops code against them)."""

from enum import StrEnum


class MembersErrorCode(StrEnum):
    MEMBER_NOT_FOUND = "member_not_found"
    MEMBER_EXISTS = "member_exists"
    MEMBER_INACTIVE = "member_inactive"
    PHONE_INVALID = "phone_invalid"
    PLAN_NOT_FOUND = "plan_not_found"
    NO_TRIAL = "no_trial"
    TRIAL_USED = "trial_used"
    PAYMENT_REFERENCE_USED = "payment_reference_used"
    SUBSCRIPTION_NOT_FOUND = "subscription_not_found"
    SUBSCRIPTION_EXISTS = "subscription_exists"
    SUBSCRIPTION_NOT_LIVE = "subscription_not_live"
    SUBSCRIPTION_NOT_RENEWABLE = "subscription_not_renewable"
