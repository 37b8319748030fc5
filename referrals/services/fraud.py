"""Fraud checks on referrals. Each returns reason codes that are recorded on the referral; a referral with
reasons is held for staff review (approve pays, reject never pays).

- same_email / same_phone: the referrer and the new member share an e-mail (after normalisation: case, a
  +tag, dots in Gmail addresses) or a phone number (members store E.164; members.phones compares one kept as typed
  in its parsed form, so "+86 138-0013-8000" and "13800138000" are one number);
- same_payment: the qualifying order was paid with a payment fingerprint the referrer's orders used too;
- many_signups_device / many_signups_network: the program's threshold of sign-ups with one code from one
  device or one IP address within its window (this one included);
- referrer_closed: the code's owner had closed their membership.
"""

from datetime import datetime, timedelta

from members.models import Member
from members.phones import phones_same

from ..models import PaymentFingerprint, Program, Referral

_GMAIL = {"gmail.com", "googlemail.com"}


def email_normalise(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email:
        return email
    local, domain = email.rsplit("@", 1)
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def attach_reasons(*, program: Program, referrer: Member, member: Member, code: str, device_id: str,
                   ip: str | None, now: datetime) -> list[str]:
    reasons = []
    if member.email and email_normalise(member.email) == email_normalise(referrer.email):
        reasons.append("same_email")
    if phones_same(member.phone, referrer.phone):
        reasons.append("same_phone")
    if referrer.status == Member.Status.CLOSED:
        reasons.append("referrer_closed")
    recent = Referral.objects.filter(code=code, created_at__gte=now - timedelta(hours=program.device_window_hours))
    if device_id and recent.filter(device_id=device_id).count() + 1 >= program.device_threshold:
        reasons.append("many_signups_device")
    if ip and recent.filter(ip=ip).count() + 1 >= program.device_threshold:
        reasons.append("many_signups_network")
    return reasons


def payment_reason(*, referrer_id: int, fingerprint: str) -> str | None:
    if fingerprint and PaymentFingerprint.objects.filter(member_id=referrer_id, fingerprint=fingerprint).exists():
        return "same_payment"
    return None
