"""Staff's view of campaigns: event types, campaigns, challenges and the settings (the events' retention) are edited
here (managers); events, counters, firings and challenge progress are read-only (the API and the evaluation write
them)."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from core.admin_mixins import BoundedNumbersAdminMixin, ReadOnlyMixin

from . import selectors, services
from .models import Campaign, CampaignSettings, Challenge, ChallengeProgress, Event, EventType, Firing


@admin.register(EventType)
class EventTypeAdmin(ModelAdmin):
    list_display = ["name", "description", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name"]


@admin.register(Campaign)
class CampaignAdmin(ModelAdmin):
    list_display = ["code", "name", "journey", "trigger", "event_type", "active", "bonus_points", "reward", "budget_points",
                    "spent_points"]
    list_filter = ["active", "trigger", "journey"]
    search_fields = ["code", "name"]
    readonly_fields = ["spent_points", "spent_vouchers", "created_at", "results"]
    actions = ["simulate"]
    fieldsets = [
        (None, {"fields": ["code", "name", "active", "starts_at", "ends_at"]}),
        (_("Trigger"), {"fields": ["trigger", "event_type", "event_count", "window", "window_hours", "window_days",
                                "collect_attribute", "order_min_amount", "to_stage", "to_tier", "upgrades_only",
                                "to_tag", "fire_on"]}),
        (_("Conditions"), {"fields": ["tiers", "stages", "value_tiers", "loyalty_types", "stores", "channels",
                                   ("paid_plan", "plan"), ("hour_from", "hour_to"), "weekdays", "languages",
                                   "needs_marketing_consent", ("age_min", "age_max")]}),
        (_("Effects"), {"fields": ["bonus_points", ("boost_multiplier", "boost_valid_days"), "reward",
                                "message_subject", "message_text", "tag"]}),
        (_("Limits"), {"fields": ["once_per_member", ("limit_per_member", "limit_period"), ("budget_points", "spent_points"),
                               ("budget_vouchers", "spent_vouchers"), "created_at"]}),
        (_("Control group"), {"fields": ["holdout_percent", "results"]}),
    ]

    @admin.display(description=_("Reached vs held out"))
    def results(self, obj: Campaign) -> str:
        """The campaign's dashboard: its reach against its control group, with their orders since."""
        if not obj.pk:
            return "-"
        results = selectors.campaign_results(campaign=obj)
        head = (_("Group"), _("Members"), _("Ordered since"), _("Orders"), _("Spend"), _("Spend per member"))
        rows = [(_("Reached"), results["reached"]), (_("Held out"), results["held_out"])]
        return format_html(
            '<table class="campaign-results"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
            format_html_join("", "<th>{}</th>", ((h,) for h in head)),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{} ({}%)</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
                (label, r.members, r.buyers, r.buyer_share if r.buyer_share is not None else "-", r.orders, r.spend,
                 r.spend_per_member if r.spend_per_member is not None else "-") for label, r in rows)))

    @admin.action(description=_("Simulate over the last 30 days (writes nothing)"))
    def simulate(self, request, queryset) -> None:
        for campaign in queryset.order_by("pk"):
            s = services.campaign_simulate(campaign=campaign)
            self.message_user(request, _(
                "%(name)s would have reached %(members)s members with %(firings)s firings (%(held_out)s held out), "
                "costing %(points)s points, %(vouchers)s vouchers and %(multipliers)s multipliers. (The conditions "
                "use today's segments, tiers and plans; earlier firings and the message cap are not counted.)") % {
                "name": campaign.name, "members": s.members, "firings": s.firings, "held_out": s.held_out,
                "points": s.points, "vouchers": s.vouchers, "multipliers": s.multipliers}, messages.INFO)


@admin.register(CampaignSettings)
class CampaignSettingsAdmin(ModelAdmin):
    fields = ["message_cap", "message_cap_days", "event_retention_months"]

    def has_add_permission(self, request) -> bool:
        return not CampaignSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["event_id", "type", "member", "occurred_at", "channel"]
    list_filter = ["type"]
    list_select_related = ["type", "member", "channel"]
    search_fields = ["member__external_id", "event_id"]
    show_full_result_count = False


@admin.register(Firing)
class FiringAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["campaign", "member", "occurrence_key", "fired_at", "points", "voucher", "held_out", "messaged"]
    list_filter = ["campaign", "held_out"]
    list_select_related = ["campaign", "member", "voucher"]
    search_fields = ["member__external_id"]
    date_hierarchy = "fired_at"


@admin.register(Challenge)
class ChallengeAdmin(BoundedNumbersAdminMixin, ModelAdmin):
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
class ChallengeProgressAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["challenge", "member", "count", "period_start", "open_until", "completed_at", "points", "voucher"]
    list_filter = ["challenge"]
    list_select_related = ["challenge", "member", "voucher"]
    search_fields = ["member__external_id"]
