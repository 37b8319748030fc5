from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from core.admin_mixins import (
    AuditedAdminMixin,
    BoundedNumbersAdminMixin,
    ChoiceListFormField,
    LabelsMixin,
    ListFormField,
    ReadOnlyMixin,
    SingletonAdminMixin,
    ThemedFormMixin,
    currency_field,
    slug_item,
)
from core.errors import ApplicationError
from core.services import audit_record

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
from .phones import E164, InvalidPhone, phone_candidates, phone_parse, region_choices
from .selectors import tier_overview

NOTIFICATION_KINDS = [
    ("points_expiring", _("Points about to expire")),
    ("birthday_gift", _("Birthday gift (points)")),
    ("birthday_voucher", _("Birthday gift (voucher)")),
    ("voucher_expiry_reminder", _("Voucher about to expire")),
    ("tier_downgrade_warning", _("Tier downgrade warning")),
    ("membership_renewal_reminder", _("Paid membership renews soon")),
    ("membership_expiry_reminder", _("Paid membership ends soon")),
    ("membership_ended", _("Paid membership ended")),
]
"""The kinds of message the outbox sends (a webhook endpoint may subscribe to some)."""

CHANGE_STATUS_PERMISSION = "members.change_member_status"

BASIS = {"points": _("points earned"), "spend": _("spend")}
WINDOW = {"lifetime": _("lifetime"), "rolling_12_months": _("last 12 months"), "calendar_year": _("this calendar year")}
"""How the member's tier progress is counted, in the staff's language."""


class MemberForm(ThemedFormMixin, forms.ModelForm):
    def clean_phone(self) -> str:
        try:
            return phone_parse(self.cleaned_data.get("phone") or "")
        except InvalidPhone as exc:
            raise forms.ValidationError(_("Not a phone number.")) from exc


class PhoneUnreadableFilter(admin.SimpleListFilter):
    """Members whose phone could not be read when numbers were normalised (kept as typed): staff correct them."""

    title = _("phone")
    parameter_name = "phone_format"

    def lookups(self, request, model_admin):
        return [("unreadable", _("Not readable (kept as typed)"))]

    def queryset(self, request, queryset):
        if self.value() == "unreadable":
            return queryset.exclude(phone="").exclude(phone__regex=E164.pattern)
        return queryset


class StatusForm(ThemedFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Member.Status.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why."))
        return reason


class PinForm(ThemedFormMixin, forms.Form):
    tier = forms.ModelChoiceField(Tier.objects.filter(active=True).order_by("rank"), required=False,
                                  help_text="Leave empty to remove the pin.")
    until = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=300)


@admin.register(Member)
class MemberAdmin(AuditedAdminMixin, LabelsMixin, ModelAdmin):
    """Members as staff look them up. The loyalty app extends this with balance, statement and adjustments."""

    change_form_template = "admin/members/member/change_form.html"
    labels = {"external_id": _("Customer id"), "name": pgettext_lazy("person", "Name"), "email": _("E-mail"), "phone": _("Phone"),
              "card_number": _("Card number"), "timezone": _("Time zone"), "language": _("Language"),
              "marketing_consent": _("Agrees to marketing messages"), "birth_date": _("Birth date")}

    form = MemberForm
    list_display = ["external_id", "name", "email", "phone", "status", "joined_at"]
    list_filter = ["status", "marketing_consent", "tier_status__tier", PhoneUnreadableFilter]
    search_fields = ["external_id", "email", "phone", "card_number", "name"]
    readonly_fields = ["joined_at", "updated_at", "tier", "status_display"]
    actions = ["revoke_page_links"]
    fieldsets = [
        (None, {"fields": ["external_id", "name", "status_display"]}),
        (_("Contact"), {"fields": ["email", "phone", "card_number", "timezone", "language", "marketing_consent"]}),
        (_("Dates"), {"fields": ["birth_date", "joined_at", "updated_at"]}),
        (_("Tier"), {"fields": ["tier"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The shop owns external_id: its lookups by the old id would answer 404 after a rename. Status changes go
        # through the manager's "change status" page, with a reason, into the audit log.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "external_id"] if obj is not None else fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # a new member: the shop's id is typed once; the status starts active
            first = [f if f != "status_display" else "external_id" for f in fieldsets[0][1]["fields"]]
            first = list(dict.fromkeys(["external_id", *first]))
            fieldsets = [(None, {"fields": first}), *fieldsets[1:]]
        return fieldsets

    @admin.display(description=_("Status"))
    def status_display(self, obj: Member) -> str:
        return format_html("<strong>{}</strong>", obj.get_status_display())

    def member_actions(self, request, member: Member) -> list[tuple[str, str]]:
        """The buttons above the member's page, (label, url): only those this user may use. Apps above extend it."""
        actions = []
        if request.user.has_perm(CHANGE_STATUS_PERMISSION):
            actions.append((gettext("Change status"), reverse("admin:members_member_status", args=[member.pk])))
        if request.user.has_perm("members.change_tierstatus"):
            actions.append((gettext("Pin tier"), reverse("admin:members_member_pin", args=[member.pk])))
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        member = self.get_object(request, object_id)
        extra = {"member_actions": self.member_actions(request, member)} if member is not None else {}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_search_results(self, request, queryset, search_term):
        # Staff type phone numbers as the customer says them ("138 0013 8000", "+86 138-0013-8000", "0086 ..."):
        # the text read as a number in the program's region finds the member's stored E.164 number.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        numbers = phone_candidates(search_term)
        if numbers:
            found |= queryset.filter(phone__in=numbers)
        return found, may_have_duplicates

    @admin.display(description=_("Tier"))
    def tier(self, obj: Member) -> str:
        if not obj.pk:
            return "-"
        o = tier_overview(member=obj)
        progress = o["progress"]
        nxt = progress["next_tier"]
        pinned = f", pinned to {o['pinned']['tier']} until {o['pinned']['until']:%Y-%m-%d}" if o["pinned"] else ""
        return format_html(
            "<strong>{}</strong>{}; {} {} ({}, {}){}. {} x{} {}.",
            o["tier"]["name"] if o["tier"] else gettext("no tier"), pinned, gettext("qualifying"),
            progress["qualifying"], BASIS.get(progress["basis"], progress["basis"]),
            WINDOW.get(progress["window"], progress["window"]),
            f"; {progress['needed']} more for {nxt['name']}" if nxt else "", gettext("Benefits:"),
            o["benefits"]["earn_multiplier"], ", ".join(o["benefits"]["perks"]),
        )

    @admin.action(description=_("Revoke the links to their own page (e-mailed links stop working)"),
                  permissions=["change"])
    def revoke_page_links(self, request, queryset):
        for member in queryset.order_by("pk"):
            services.page_links_revoke(member=member, actor=request.user)
        self.message_user(request, gettext("Page links revoked for %(n)d member(s).") % {"n": queryset.count()},
                          messages.SUCCESS)

    def get_urls(self):
        return [path("<int:member_id>/pin-tier/", self.admin_site.admin_view(self.pin_view),
                     name="members_member_pin"),
                path("<int:member_id>/status/", self.admin_site.admin_view(self.status_view),
                     name="members_member_status")] + super().get_urls()

    def status_view(self, request, member_id: int):
        if not request.user.has_perm(CHANGE_STATUS_PERMISSION):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        form = StatusForm(request.POST or None, initial={"status": member.status})
        if request.method == "POST" and form.is_valid():
            old, new = member.status, form.cleaned_data["status"]
            if old != new:
                with transaction.atomic():
                    services.member_update(member=member, status=new)
                    audit_record(action="member.status", target_type="member", target_id=member.external_id,
                                 actor=request.user,
                                 details={"old": old, "new": new, "reason": form.cleaned_data["reason"]})
            messages.success(request, gettext("Status: %(status)s.") % {"status": Member.Status(new).label})
            return redirect("admin:members_member_change", member.pk)
        context = {**self.admin_site.each_context(request), "title": gettext("Change status: %(member)s") % {
            "member": member}, "form": form, "member": member, "opts": self.model._meta,
            "intro": gettext("Closing or suspending a member stops their earning and redeeming. The change and its "
                             "reason are written to the audit log.")}
        return render(request, "admin/members/member_form_page.html", context)

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
                messages.success(request, gettext("Tier pin saved."))
                return redirect("admin:members_member_change", member.pk)
        context = {**self.admin_site.each_context(request), "form": form, "member": member,
                   "title": gettext("Pin tier: %(member)s") % {"member": member}, "opts": self.model._meta}
        return render(request, "admin/members/pin.html", context)


class MembershipSettingsForm(forms.ModelForm):
    phone_region = forms.ChoiceField(
        label=_("Phone numbers' country"), choices=lambda: region_choices(get_language()),
        help_text=_("Phone numbers typed without a country code (+86, 0086) are read as numbers of this country."))


@admin.register(MembershipSettings)
class MembershipSettingsAdmin(AuditedAdminMixin, BoundedNumbersAdminMixin, SingletonAdminMixin, ModelAdmin):
    form = MembershipSettingsForm


class TierForm(ThemedFormMixin, forms.ModelForm):
    perks = ListFormField(label=_("Perks"), item=slug_item,
                          help_text=_("Names separated by commas, e.g. free_shipping, lounge."))


@admin.register(Tier)
class TierAdmin(AuditedAdminMixin, BoundedNumbersAdminMixin, ModelAdmin):
    form = TierForm
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


class PlanForm(ThemedFormMixin, forms.ModelForm):
    currency = currency_field(label=_("Currency"))
    perks = ListFormField(label=_("Perks"), item=slug_item,
                          help_text=_("Names separated by commas, e.g. free_shipping, lounge."))

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Plan.Kind.SUBSCRIPTION and not data.get("period"):
            self.add_error("period", _("A subscription renews monthly or yearly: choose one."))
        if kind == Plan.Kind.ONE_TIME and not data.get("duration_days"):
            self.add_error("duration_days", _("A one-time plan lasts a number of days: give it."))
        return data


@admin.register(Plan)
class PlanAdmin(AuditedAdminMixin, BoundedNumbersAdminMixin, ModelAdmin):
    form = PlanForm
    list_display = ["code", "name", "kind", "period", "duration_days", "price", "currency", "trial_days",
                    "earn_multiplier", "tier_floor", "active"]
    list_filter = ["kind", "active"]


class SubscriptionEventInline(ReadOnlyMixin, TabularInline):
    model = SubscriptionEvent
    extra = 0
    fields = ["created_at", "kind", "payment_reference", "amount", "refund_amount", "period_end"]
    readonly_fields = fields


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["id", "member", "plan", "status", "current_period_end", "cancel_at_period_end", "started_at"]
    list_filter = ["status", "plan", "cancel_at_period_end"]
    search_fields = ["member__external_id", "events__payment_reference"]
    list_select_related = ["member", "plan"]
    inlines = [SubscriptionEventInline]


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["created_at", "member", "from_tier", "to_tier", "reason", "note", "actor"]
    list_filter = ["reason", "to_tier"]
    search_fields = ["member__external_id"]
    list_select_related = ["member", "from_tier", "to_tier", "actor"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, ModelAdmin):
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

    @admin.action(description=_("Send again (dead-lettered or failed messages)"), permissions=["retry"])
    def retry(self, request, queryset):
        count = 0
        for notification in queryset.filter(status__in=[Notification.Status.DEAD, Notification.Status.FAILED]):
            with transaction.atomic():
                services.notification_retry(notification=notification)
            count += 1
        messages.success(request, f"{count} message(s) queued again.")


class WebhookEndpointForm(ThemedFormMixin, forms.ModelForm):
    kinds = ChoiceListFormField(label=_("Message kinds"), choices=NOTIFICATION_KINDS,
                                help_text=_("None ticked: every kind."))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditedAdminMixin, ModelAdmin):
    """Where the shop receives members' messages (JSON, signed with the endpoint's secret)."""

    form = WebhookEndpointForm

    list_display = ["name", "url", "active", "kinds", "created_at"]
    list_filter = ["active"]
