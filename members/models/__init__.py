from .member import Member, MemberToken
from .notifications import Notification, WebhookEndpoint
from .plans import Plan, Subscription, SubscriptionEvent
from .tiers import MembershipSettings, QualifyingActivity, Tier, TierChange, TierStatus

__all__ = [
    "Member", "MemberToken", "MembershipSettings", "Notification", "Plan", "QualifyingActivity", "Subscription",
    "SubscriptionEvent", "Tier", "TierChange", "TierStatus", "WebhookEndpoint",
]
