"""The error codes that referrals' services and views answer with (values are the API contract)."""

from enum import StrEnum


class ReferralsErrorCode(StrEnum):
    REFERRAL_PROGRAM_INACTIVE = "referral_program_inactive"
    REFERRAL_CODE_INVALID = "referral_code_invalid"
    REFERRAL_CODE_NOT_FOUND = "referral_code_not_found"
    REFERRAL_SELF = "referral_self"
    REFERRAL_EXISTS = "referral_exists"
    REFERRAL_ATTACH_WINDOW_OVER = "referral_attach_window_over"
    REFERRAL_LOOP = "referral_loop"
    REFERRAL_NOT_FOUND = "referral_not_found"
    REFERRAL_NOT_HELD = "referral_not_held"
    REFERRAL_CHANGED = "referral_changed"
