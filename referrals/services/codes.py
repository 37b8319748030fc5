"""Referral codes: 8 characters read aloud without confusion (no 0/O/1/I/L), unique, one per member, given when
the member is registered (by the registration flow, the admin, the demo seed; a data migration gave them to the
members registered before). Reads never create one."""

import re
import secrets

from django.db import IntegrityError, transaction

from core.db import one_or_none
from core.errors import BusinessRuleError
from members.models import Member

from ..exceptions import ReferralsErrorCode
from ..models import ReferralCode

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols: 31**8 ~ 8.5e11 codes
LENGTH = 8
ATTEMPTS = 8
_SEPARATORS = re.compile(r"[\s\-_.]")

CODE_INVALID = ReferralsErrorCode.REFERRAL_CODE_INVALID


def code_generate() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def code_normalise(raw: str) -> str:
    """What a person typed or read aloud: case, spaces and dashes do not matter."""
    return _SEPARATORS.sub("", raw or "").upper()


def referral_code_ensure(*, member: Member) -> ReferralCode:
    """The member's code, created if they have none (at registration). A collision (another code, or a concurrent
    creation for the same member) is retried inside a savepoint."""
    existing = one_or_none(ReferralCode.objects.filter(member_id=member.pk))
    if existing is not None:
        return existing
    for _ in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(member_id=member.pk, code=code_generate())
        except IntegrityError:
            existing = one_or_none(ReferralCode.objects.filter(member_id=member.pk))
            if existing is not None:
                return existing
    raise RuntimeError("Could not find a free referral code.")  # 8 collisions in a row: the space is exhausted


def referral_code_find(*, code: str) -> ReferralCode:
    """The code's row with its member, or 422 referral_code_invalid (unknown or malformed codes alike)."""
    value = code_normalise(code)
    found = None
    if len(value) == LENGTH and all(ch in ALPHABET for ch in value):
        found = one_or_none(ReferralCode.objects.select_related("member").filter(code=value))
    if found is None:
        raise BusinessRuleError("This referral code is not valid.", code=CODE_INVALID,
                                fields={"referral_code": ["Unknown code."]})
    return found
