"""Erasure of what `referrals` holds on a member: the device and address recorded when they signed up with a code,
and the payment fingerprints kept to spot self-referrals. Referrals, their rewards and codes stay (the ledger
points at them)."""

from django.db import transaction

from members.models import Member

from ..models import PaymentFingerprint, Referral


@transaction.atomic(savepoint=False)
def referrals_personal_erase(*, member: Member) -> int:
    """Returns how many rows were changed or removed."""
    changed = Referral.objects.filter(referred=member).exclude(device_id="", ip=None).update(device_id="", ip=None)
    removed, _ = PaymentFingerprint.objects.filter(member=member).delete()
    return changed + removed
