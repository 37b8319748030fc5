"""Staff's view of campaigns: event types, campaigns, challenges and the settings (the events' retention) are edited
here (managers); events, counters, firings and challenge progress are read-only (the API and the evaluation write
them)."""

from django.contrib import admin

from core.admin_mixins import BoundedNumbersAdminMixin, ReadOnlyMixin, SingletonAdminMixin

from .models import Campaign, CampaignSettings, Challenge, ChallengeProgress, Event, EventType, Firing


@admin.register(CampaignSettings)
class CampaignSettingsAdmin(BoundedNumbersAdminMixin, SingletonAdminMixin, admin.ModelAdmin):
    number_bounds = {"event_retention_months": {"min_value": 1, "max_value": 120}}


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "trigger", "event_type", "active", "bonus_points", "reward", "budget_points",
                    "spent_points"]
    list_filter = ["active", "trigger"]
    search_fields = ["code", "name"]
    readonly_fields = ["spent_points", "created_at"]
    fieldsets = [
        (None, {"fields": ["code", "name", "active", "starts_at", "ends_at"]}),
        ("Trigger", {"fields": ["trigger", "event_type", "event_count", "window", "window_hours", "window_days",
                                "collect_attribute", "order_min_amount", "to_stage", "to_tier"]}),
        ("Conditions", {"fields": ["tiers", "stages", "stores", "channels"]}),
        ("Effects", {"fields": ["bonus_points", "reward", "message_subject", "message_text", "tag"]}),
        ("Limits", {"fields": ["once_per_member", "budget_points", "spent_points", "created_at"]}),
    ]


@admin.register(Event)
class EventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["event_id", "type", "member", "occurred_at", "channel"]
    list_filter = ["type"]
    list_select_related = ["type", "member", "channel"]
    search_fields = ["member__external_id", "event_id"]
    show_full_result_count = False


@admin.register(Firing)
class FiringAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["campaign", "member", "occurrence_key", "fired_at", "points", "voucher"]
    list_filter = ["campaign"]
    list_select_related = ["campaign", "member", "voucher"]
    search_fields = ["member__external_id"]
    date_hierarchy = "fired_at"


@admin.register(Challenge)
class ChallengeAdmin(BoundedNumbersAdminMixin, admin.ModelAdmin):
    list_display = ["code", "kind", "event_type", "times", "within_days", "weeks", "active", "bonus_points", "reward"]
    list_filter = ["active", "kind"]
    search_fields = ["code"]
    readonly_fields = ["created_at"]
    number_bounds = {"times": {"min_value": 1}, "within_days": {"min_value": 1}, "weeks": {"min_value": 1}}
    fieldsets = [
        (None, {"fields": ["code", "title", "description", "active", "starts_at", "ends_at"]}),
        ("What to do", {"fields": ["kind", "event_type", "times", "within_days", "weeks"]}),
        ("Reward", {"fields": ["bonus_points", "reward", "created_at"]}),
    ]


@admin.register(ChallengeProgress)
class ChallengeProgressAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["challenge", "member", "count", "period_start", "open_until", "completed_at", "points", "voucher"]
    list_filter = ["challenge"]
    list_select_related = ["challenge", "member", "voucher"]
    search_fields = ["member__external_id"]
