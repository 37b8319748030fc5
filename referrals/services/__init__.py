"""The referrals app's services. Points move only through loyalty's services."""

from .codes import code_normalise, referral_code_ensure, referral_code_find
from .privacy import referrals_personal_erase
from .referrals import (
    program_activate,
    program_active,
    referral_attach,
    referral_parties,
    referral_parties_of,
    referral_qualify,
    referral_reverse_if_unqualified,
    referral_review,
    reward_for,
)

__all__ = [
    "code_normalise", "program_activate", "program_active", "referral_attach", "referral_code_ensure", "referral_code_find",
    "referral_parties", "referral_parties_of", "referral_qualify", "referral_reverse_if_unqualified",
    "referral_review", "reward_for",
    "referrals_personal_erase",
]
