from django.db.models import Q, Sum

from members.models import Member

from .models import Referral, ReferralCode, ReferralReward


def referral_code_of(*, member: Member) -> str | None:
    """The member's own code; every member gets one when registered, and reading never creates one."""
    return ReferralCode.objects.filter(member_id=member.pk).values_list("code", flat=True).first()


def referral_overview(*, member: Member) -> dict:
    """A member's code, the people they referred (newest first) and what they earned by it. Reads only."""
    code = referral_code_of(member=member)
    referrals = list(Referral.objects.filter(referrer=member).select_related("referred").order_by("-id")[:200])
    earned = dict(ReferralReward.objects.filter(member=member, referral__in=[r.pk for r in referrals])
                  .filter(role=ReferralReward.Role.REFERRER, revoke_transaction__isnull=True)
                  .values_list("referral_id", "points"))
    kept = ReferralReward.objects.filter(member=member, revoke_transaction__isnull=True).exclude(
        role=ReferralReward.Role.WELCOME)
    totals = kept.aggregate(
        total=Sum("points"),
        still_pending=Sum("points", filter=Q(transaction__lots__released=False, transaction__lots__remaining__gt=0)),
        second=Sum("points", filter=Q(role=ReferralReward.Role.SECOND_LEVEL)),
    )
    referred_by = Referral.objects.filter(referred=member).select_related("referrer").first()
    return {
        "member": member.external_id,
        "code": code,
        "referred_by": ({"code": referred_by.code, "status": referred_by.status} if referred_by else None),
        "earned": {"points": totals["total"] or 0, "pending": totals["still_pending"] or 0,
                   "second_level": totals["second"] or 0},
        "referrals": [
            {"id": r.pk, "member": r.referred.external_id, "name": (r.referred.name or "").split(" ")[0],
             "status": r.status, "joined_at": r.referred.joined_at,
             "created_at": r.created_at, "qualified_at": r.qualified_at, "ordinal": r.ordinal,
             "points": earned.get(r.pk, 0)}
            for r in referrals
        ],
    }


def referrals_data_export(*, member: Member) -> dict:
    """What `referrals` holds on the member: their code, the referral that brought them (with the device and
    address recorded then), those they made (without the other people's data), rewards. Reads only."""
    from core.privacy import export_rows

    from .models import PaymentFingerprint

    return {
        "code": referral_code_of(member=member),
        "referred_by": export_rows(Referral.objects.filter(referred=member),
                                   ["code", "status", "device_id", "ip", "created_at", "qualified_at"]),
        "referrals_made": export_rows(Referral.objects.filter(referrer=member),
                                      ["id", "code", "status", "created_at", "qualified_at", "ordinal"]),
        "rewards": export_rows(ReferralReward.objects.filter(member=member),
                               ["referral_id", "role", "points", "created_at"]),
        "payment_fingerprints": export_rows(PaymentFingerprint.objects.filter(member=member), ["fingerprint", "created_at"]),
    }
