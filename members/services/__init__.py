from .member import (
    member_register,
    member_token_issue,
    member_tokens_revoke,
    member_update,
    phone_normalise,
    timezone_validate,
)
from .notifications import (
    Message,
    notification_record,
    notification_retry,
    notifications_deliver_due,
    notifications_record_many,
)
from .page_links import member_for_page_link, page_link_issue, page_links_revoke
from .plans import (
    membership_reminders_send,
    plan_get,
    subscription_cancel,
    subscription_for,
    subscription_renew,
    subscription_start,
    subscriptions_expire_due,
)
from .privacy import is_erased, member_erase
from .tiers import (
    QUALIFYING_UPSERT,
    Benefits,
    TierActivity,
    active_tiers,
    benefits_of,
    held_sums_after,
    held_value_of,
    held_windows,
    member_benefits,
    month_start,
    next_review,
    plans_by_id,
    qualifying_params,
    status_state,
    tier_activity_prepare,
    tier_activity_record,
    tier_evaluate,
    tier_pin,
    tier_take_back,
    tier_threshold_review_schedule,
    tier_upgrade_apply,
    tier_upgrade_if_qualified,
    tiers_evaluate_due,
)

__all__ = [
    "Benefits", "Message", "TierActivity", "notification_retry", "notifications_deliver_due", "notifications_record_many",
    "member_benefits", "member_register", "member_token_issue", "member_tokens_revoke", "member_update",
    "membership_reminders_send", "notification_record", "member_for_page_link", "page_link_issue",
    "page_links_revoke", "phone_normalise", "plan_get", "subscription_cancel", "subscription_for",
    "subscription_renew", "subscription_start", "subscriptions_expire_due", "tier_activity_prepare",
    "tier_activity_record", "tier_evaluate", "tier_pin", "tier_take_back", "tier_threshold_review_schedule",
    "tier_upgrade_if_qualified", "tiers_evaluate_due", "timezone_validate",
    "QUALIFYING_UPSERT", "qualifying_params", "active_tiers", "benefits_of", "held_sums_after", "held_value_of", "held_windows",
    "month_start", "plans_by_id", "next_review", "status_state", "tier_upgrade_apply",
    "is_erased", "member_erase",
]
