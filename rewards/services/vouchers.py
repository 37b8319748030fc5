from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.db import one_or_none
from core.errors import BusinessRuleError, Conflict, NotFound
from core.services import audit_record

from ..exceptions import RewardsErrorCode
from ..models import RedemptionRules, Voucher


def _normalise(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def voucher_get(*, code: str, lock: bool = False) -> Voucher:
    qs = Voucher.objects.select_related("reward", "member")
    if lock:
        qs = qs.select_for_update(of=("self",))
    voucher = one_or_none(qs.filter(code=_normalise(code)))
    if voucher is None:
        raise NotFound("No such voucher.", code=RewardsErrorCode.VOUCHER_NOT_FOUND)
    return voucher


def voucher_grant(*, member_id: int, reward_code: str, grant_key: str, now: datetime | None = None) -> Voucher:
    """Give a member a voucher of a catalog reward without points (a campaign's effect), once per `grant_key`:
    a second call with the same key returns the first voucher. The reward must be active and issue vouchers."""
    from .redemptions import reward_get

    existing = one_or_none(Voucher.objects.filter(grant_key=grant_key))
    if existing is not None:
        return existing
    reward = reward_get(code=reward_code)
    if not (reward.active and reward.issues_voucher):
        raise BusinessRuleError(f"The reward {reward_code!r} issues no voucher now.",
                                code=RewardsErrorCode.REWARD_INACTIVE)
    now = now or timezone.now()
    days = reward.voucher_valid_days or RedemptionRules.current().voucher_valid_days
    return Voucher.objects.create(reward=reward, member_id=member_id, grant_key=grant_key,
                                  expires_at=now + timedelta(days=days))


def vouchers_grant_many(*, reward_code: str, grants: list[tuple[int, str]], now: datetime) -> dict[str, Voucher]:
    """`voucher_grant` for a batch (the campaigns' jobs): `grants` are (member id, grant key) pairs. One read of the
    vouchers already granted under these keys, the reward checked once (refused as `voucher_grant` refuses it),
    the new vouchers in one multi-row INSERT. Returns the voucher of every grant key."""
    from .redemptions import reward_get

    found = {v.grant_key: v for v in Voucher.objects.filter(grant_key__in=[key for _, key in grants])}
    missing = [(member_id, key) for member_id, key in grants if key not in found]
    if not missing:
        return found
    reward = reward_get(code=reward_code)
    if not (reward.active and reward.issues_voucher):
        raise BusinessRuleError(f"The reward {reward_code!r} issues no voucher now.",
                                code=RewardsErrorCode.REWARD_INACTIVE)
    expires_at = now + timedelta(days=reward.voucher_valid_days or RedemptionRules.current().voucher_valid_days)
    created = Voucher.objects.bulk_create([Voucher(reward=reward, member_id=member_id, grant_key=key,
                                                   expires_at=expires_at) for member_id, key in missing])
    return found | {v.grant_key: v for v in created}


def voucher_problem(voucher: Voucher, now: datetime) -> tuple[str, str] | None:
    if voucher.status == Voucher.Status.REDEEMED:
        return RewardsErrorCode.VOUCHER_ALREADY_REDEEMED, f"Used on {voucher.redeemed_at:%Y-%m-%d %H:%M}."
    if voucher.status == Voucher.Status.VOID:
        return RewardsErrorCode.VOUCHER_VOID, "This voucher was voided."
    if voucher.expires_at <= now:
        return RewardsErrorCode.VOUCHER_EXPIRED, f"Expired on {voucher.expires_at:%Y-%m-%d}."
    return None


@transaction.atomic(savepoint=False)
def voucher_redeem(*, code: str, channel_id: int, store: str = "", order_id: str = "") -> Voucher:
    """Use a voucher, once. A second use is a 409; a void or expired one is refused with its reason."""
    voucher = voucher_get(code=code, lock=True)
    now = timezone.now()
    problem = voucher_problem(voucher, now)
    if problem:
        code_, message = problem
        if code_ == RewardsErrorCode.VOUCHER_ALREADY_REDEEMED:
            raise Conflict(message, code=code_)
        raise BusinessRuleError(message, code=code_)
    voucher.status, voucher.redeemed_at = Voucher.Status.REDEEMED, now
    voucher.redeemed_channel_id, voucher.redeemed_store, voucher.redeemed_order_id = channel_id, store, order_id
    voucher.save(update_fields=["status", "redeemed_at", "redeemed_channel", "redeemed_store", "redeemed_order_id"])
    return voucher


@transaction.atomic(savepoint=False)
def voucher_void(*, voucher: Voucher, reason: str, actor=None) -> Voucher:
    voucher = Voucher.objects.select_for_update().get(pk=voucher.pk)
    if voucher.status != Voucher.Status.ISSUED:
        raise Conflict(f"The voucher is {voucher.status}.", code=RewardsErrorCode.VOUCHER_NOT_ISSUED)
    voucher.status, voucher.voided_at, voucher.void_reason = Voucher.Status.VOID, timezone.now(), reason
    voucher.save(update_fields=["status", "voided_at", "void_reason"])
    audit_record(action="voucher.void", target_type="voucher", target_id=voucher.code, actor=actor,
                 details={"reason": reason})
    return voucher
