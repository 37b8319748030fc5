"""Staff's view of campaigns: event types and campaigns are edited here (managers); events, counters and firings
are read-only (the API and the evaluation write them)."""

from django.contrib import admin

from core.admin_mixins import ReadOnlyMixin

from .models import Campaign, Event, EventType, Firing


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
                                "collect_attribute", "order_min_amount", "to_stage", "to_tier", "to_tag", "fire_on"]}),
        ("Conditions", {"fields": ["tiers", "stages", "value_tiers", "loyalty_types", "stores", "channels",
                                   ("paid_plan", "plan"), ("hour_from", "hour_to"), "weekdays", "languages",
                                   "needs_marketing_consent", ("age_min", "age_max")]}),
        ("Effects", {"fields": ["bonus_points", ("boost_multiplier", "boost_valid_days"), "reward",
                                "message_subject", "message_text", "tag"]}),
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
