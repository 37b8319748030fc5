from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin_mixins import BoundedNumbersAdminMixin, ReadOnlyMixin, SingletonAdminMixin
from core.errors import ApplicationError

from . import services
from .models import (
    Member,
    MembershipSettings,
    Notification,
    Plan,
    Subscription,
    SubscriptionEvent,
    Tier,
    TierChange,
    WebhookEndpoint,
)
from .selectors import tier_overview


class PinForm(forms.Form):
    tier = forms.ModelChoiceField(Tier.objects.filter(active=True).order_by("rank"), required=False,
                                  help_text="Leave empty to remove the pin.")
    until = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=300)


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    """Members as staff look them up. The loyalty app extends this with balance, statement and adjustments."""

    list_display = ["external_id", "name", "email", "phone", "status", "joined_at"]
    list_filter = ["status", "marketing_consent", "tier_status__tier"]
    search_fields = ["external_id", "email", "phone", "card_number", "name"]
    readonly_fields = ["joined_at", "updated_at", "tier"]
    actions = ["revoke_page_links"]
    fieldsets = [
        (None, {"fields": ["external_id", "name", "status"]}),
        ("Contact", {"fields": ["email", "phone", "card_number", "timezone", "language", "marketing_consent"]}),
        ("Dates", {"fields": ["birth_date", "joined_at", "updated_at"]}),
        ("Tier", {"fields": ["tier"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        # Staff type phone numbers as they are printed; match the normalised form too.
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        digits = "".join(ch for ch in search_term if ch.isdigit()).lstrip("0")  # national trunk prefix
        if len(digits) >= 6:
            queryset |= self.model.objects.filter(phone__endswith=digits)
        return queryset, may_have_duplicates

    @admin.display(description="Tier")
    def tier(self, obj: Member) -> str:
        if not obj.pk:
            return "-"
        o = tier_overview(member=obj)
        progress = o["progress"]
        nxt = progress["next_tier"]
        pinned = f", pinned to {o['pinned']['tier']} until {o['pinned']['until']:%Y-%m-%d}" if o["pinned"] else ""
        return format_html(
            "<strong>{}</strong>{}; qualifying {} ({}, {}){}. Benefits: x{} {}. <a class='button' href='{}'>Pin tier</a>",
            o["tier"]["name"] if o["tier"] else "no tier", pinned, progress["qualifying"], progress["basis"],
            progress["window"], f"; {progress['needed']} more for {nxt['name']}" if nxt else "",
            o["benefits"]["earn_multiplier"], ", ".join(o["benefits"]["perks"]),
            reverse("admin:members_member_pin", args=[obj.pk]),
        )

    @admin.action(description="Revoke the links to their own page (e-mailed links stop working)",
                  permissions=["change"])
    def revoke_page_links(self, request, queryset):
        for member in queryset.order_by("pk"):
            services.page_links_revoke(member=member, actor=request.user)
        self.message_user(request, f"Page links revoked for {queryset.count()} member(s).", messages.SUCCESS)

    def get_urls(self):
        return [path("<int:member_id>/pin-tier/", self.admin_site.admin_view(self.pin_view),
                     name="members_member_pin")] + super().get_urls()

    def pin_view(self, request, member_id: int):
        if not request.user.has_perm("members.change_tierstatus"):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        form = PinForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    services.tier_pin(member=member, tier=form.cleaned_data["tier"], until=form.cleaned_data["until"],
                                      reason=form.cleaned_data["reason"], actor=request.user)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Tier pin saved.")
                return redirect("admin:members_member_change", member.pk)
        context = {**self.admin_site.each_context(request), "title": f"Pin tier: {member}", "form": form,
                   "member": member, "opts": self.model._meta}
        return render(request, "admin/members/pin.html", context)


@admin.register(MembershipSettings)
class MembershipSettingsAdmin(BoundedNumbersAdminMixin, SingletonAdminMixin, admin.ModelAdmin):
    pass


@admin.register(Tier)
class TierAdmin(BoundedNumbersAdminMixin, admin.ModelAdmin):
    list_display = ["rank", "name", "code", "threshold", "earn_multiplier", "birthday_gift_points", "perks", "active"]
    ordering = ["rank"]

    def save_model(self, request, obj, form, change):
        old_threshold = Tier.objects.filter(pk=obj.pk).values_list("threshold", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        scheduled = services.tier_threshold_review_schedule(tier=obj, old_threshold=old_threshold)
        if scheduled:
            messages.info(request, f"{scheduled} member(s) concerned by the threshold will be reviewed at the next "
                                   "evaluation (tonight): those who reach it move up, those below it get the usual "
                                   "warning and grace period.")


@admin.register(Plan)
class PlanAdmin(BoundedNumbersAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "period", "duration_days", "price", "currency", "trial_days",
                    "earn_multiplier", "tier_floor", "active"]
    list_filter = ["kind", "active"]


class SubscriptionEventInline(ReadOnlyMixin, admin.TabularInline):
    model = SubscriptionEvent
    extra = 0
    fields = ["created_at", "kind", "payment_reference", "amount", "refund_amount", "period_end"]
    readonly_fields = fields


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "member", "plan", "status", "current_period_end", "cancel_at_period_end", "started_at"]
    list_filter = ["status", "plan", "cancel_at_period_end"]
    search_fields = ["member__external_id", "events__payment_reference"]
    list_select_related = ["member", "plan"]
    inlines = [SubscriptionEventInline]


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "member", "from_tier", "to_tier", "reason", "note", "actor"]
    list_filter = ["reason", "to_tier"]
    search_fields = ["member__external_id"]
    list_select_related = ["member", "from_tier", "to_tier", "actor"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The outbox, read-only: what was sent to whom, through which channel, and what failed. Dead-lettered
    messages can be sent again (an action)."""

    list_display = ["created_at", "member", "kind", "target", "status", "attempts", "next_attempt_at", "sent_at",
                    "last_error", "marketing"]
    list_filter = ["status", "kind", "channel", "marketing"]
    search_fields = ["member__external_id", "dedupe_key"]
    list_select_related = ["member"]
    actions = ["retry"]

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("members.change_notification")

    @admin.action(description="Send again (dead-lettered or failed messages)", permissions=["retry"])
    def retry(self, request, queryset):
        count = 0
        for notification in queryset.filter(status__in=[Notification.Status.DEAD, Notification.Status.FAILED]):
            with transaction.atomic():
                services.notification_retry(notification=notification)
            count += 1
        messages.success(request, f"{count} message(s) queued again.")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Where the shop receives members' messages (JSON, signed with the endpoint's secret)."""

    list_display = ["name", "url", "active", "kinds", "created_at"]
    list_filter = ["active"]
