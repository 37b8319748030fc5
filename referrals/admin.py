from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from core.admin_mixins import AuditedAdminMixin, BoundedNumbersAdminMixin, ReadOnlyMixin, ThemedFormMixin
from core.errors import ApplicationError
from core.services import audit_record
from loyalty.admin import LoyaltyMemberAdmin
from members.models import Member

from .models import Program, ProgramStep, Referral, ReferralCode, ReferralReward
from .selectors import referral_code_of
from .services import program_activate, referral_code_ensure, referral_review

REASONS = {
    "same_email": _("The new member's e-mail address is the referrer's."),
    "same_phone": _("The new member's phone number is the referrer's."),
    "referrer_closed": _("The referrer's membership is closed."),
    "referrer_inactive": _("The referrer is not active."),
    "many_signups_device": _("Several sign-ups with this code from one device in a short time."),
    "many_signups_network": _("Several sign-ups with this code from one network in a short time."),
    "same_payment": _("The qualifying order was paid with a card the referrer used."),
    "monthly_cap": _("The referrer reached this month's limit of rewarded referrals."),
    "total_cap": _("The referrer reached the limit of rewarded referrals."),
    "order_refunded": _("The qualifying order was refunded."),
}
"""What each flag on a referral means, for the staff who review it."""


def reason_text(code: str) -> str:
    return str(REASONS.get(code, code))


class ProgramStepInline(BoundedNumbersAdminMixin, TabularInline):
    model = ProgramStep
    extra = 1
    verbose_name = _("step (multi-tier)")
    verbose_name_plural = _("steps (multi-tier): from the n-th successful referral on, each pays")


class ProgramForm(ThemedFormMixin, forms.ModelForm):
    def clean(self):
        data = super().clean()
        if data.get("second_level_percent") is not None and data["second_level_percent"] > 100:
            self.add_error("second_level_percent", _("A share is at most 100 percent."))
        return data


@admin.register(Program)
class ProgramAdmin(AuditedAdminMixin, BoundedNumbersAdminMixin, ModelAdmin):
    """Referral programs. One is active at a time: "make active" switches to another in one transaction (the
    active flag is not typed, so two programs can never both be active nor a switch fail half-way)."""

    form = ProgramForm
    list_display = ["name", "active", "kind", "referrer_points", "welcome_points", "min_order_amount", "qualify_days",
                    "monthly_cap", "total_cap", "second_level", "created_at"]
    list_filter = ["active", "kind"]
    readonly_fields = ["active"]
    inlines = [ProgramStepInline]
    actions = ["make_active"]
    fieldsets = [
        (None, {"fields": ["name", "active", "kind", "referrer_points", "welcome_points"]}),
        (_("Success"), {"fields": ["min_order_amount", "qualify_days", "attach_days"]}),
        (_("Caps"), {"fields": ["monthly_cap", "total_cap"]}),
        (_("Second level"), {"fields": ["second_level", "second_level_percent"]}),
        (_("Fraud checks"), {"fields": ["device_threshold", "device_window_hours"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # kept for history: referrals point at the program they were made under

    def has_make_active_permission(self, request) -> bool:
        return request.user.has_perm("referrals.change_program")

    @admin.action(description=_("Make the selected program the active one"), permissions=["make_active"])
    def make_active(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, gettext("Select exactly one program: one program is active at a time."),
                              messages.WARNING)
            return
        chosen = queryset.get()
        program_activate(program_id=chosen.pk, actor=request.user)
        self.message_user(request, gettext("“%(name)s” is now the active referral program.") % {"name": chosen.name})


class ReferralRewardInline(ReadOnlyMixin, TabularInline):
    model = ReferralReward
    fields = ["role", "member", "points", "transaction", "revoke_transaction", "created_at"]
    readonly_fields = fields
    extra = 0


class ReviewForm(ThemedFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


@admin.register(Referral)
class ReferralAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["id", "referrer", "referred", "code", "status", "flags", "ordinal", "created_at",
                    "qualified_at", "review_link"]
    list_filter = ["status", "program"]
    search_fields = ["code", "referrer__external_id", "referred__external_id", "referrer__email", "referred__email"]
    list_select_related = ["referrer", "referred"]
    raw_id_fields = ["referrer", "referred", "order"]
    inlines = [ReferralRewardInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # read-only: staff decide through the review page, which pays through the ledger

    @admin.display(description=_("Flags"))
    def flags(self, obj: Referral) -> str:
        return "; ".join(reason_text(r) for r in obj.reasons) or "-"

    @admin.display(description=_("Review"))
    def review_link(self, obj: Referral) -> str:
        if obj.status != Referral.Status.HELD:
            return "-"
        return format_html("<a class='button' href='{}'>{}</a>", reverse("admin:referrals_referral_review",
                                                                          args=[obj.pk]), gettext("Review"))

    def get_urls(self):
        return [path("<int:referral_id>/review/", self.admin_site.admin_view(self.review_view),
                     name="referrals_referral_review")] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        referral = self.get_object(request, object_id)
        title = gettext("Referral #%(id)s: %(referrer)s invited %(referred)s") % {
            "id": object_id, "referrer": referral.referrer, "referred": referral.referred} if referral else None
        return super().change_view(request, object_id, form_url, {"title": title, **(extra_context or {})})

    def review_view(self, request, referral_id: int):
        referral = get_object_or_404(Referral.objects.select_related("referrer", "referred", "program", "order"),
                                     pk=referral_id)
        may_review = request.user.has_perm("referrals.review_referral")
        if not (may_review or request.user.has_perm("referrals.view_referral")):
            raise PermissionDenied
        form = ReviewForm(request.POST or None)
        if request.method == "POST":
            if not may_review:
                raise PermissionDenied
            if form.is_valid():
                approve = request.POST.get("decision") == "approve"
                try:
                    done = referral_review(referral_id=referral.pk, approve=approve, actor=request.user)
                except ApplicationError as exc:
                    form.add_error(None, exc.message)
                else:
                    audit_record(action="referral.review_reason", target_type="referral", target_id=done.pk,
                                 actor=request.user, details={"approve": approve, "reason": form.cleaned_data["reason"]})
                    messages.success(request, gettext("Approved: the referral pays when its order qualifies it.")
                                     if approve else gettext("Rejected: the referral will never pay."))
                    return redirect("admin:referrals_referral_changelist")
        parties = [(gettext("Referrer"), referral.referrer), (gettext("New member"), referral.referred)]
        rows = [
            (pgettext("person", "Name"), [m.name for _, m in parties]),
            (gettext("Customer id"), [m.external_id for _, m in parties]),
            (gettext("E-mail"), [m.email for _, m in parties]),
            (gettext("Phone"), [m.phone for _, m in parties]),
            (gettext("Status"), [m.get_status_display() for _, m in parties]),
            (gettext("Joined"), [f"{m.joined_at:%Y-%m-%d %H:%M}" for _, m in parties]),
        ]
        evidence = {gettext("E-mail"), gettext("Phone")}  # what both sharing is a reason to look closer
        rows = [(label, values, label in evidence and bool(values[0]) and values[0].lower() == values[1].lower())
                for label, values in rows]
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "referral": referral, "form": form,
            "title": gettext("Review referral #%(id)s") % {"id": referral.pk}, "parties": parties, "rows": rows,
            "reasons": [reason_text(r) for r in referral.reasons], "may_review": may_review,
            "held": referral.status == Referral.Status.HELD,
        }
        return render(request, "admin/referrals/review.html", context)

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm("referrals.review_referral")


@admin.register(ReferralCode)
class ReferralCodeAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["code", "member", "created_at"]
    search_fields = ["code", "member__external_id", "member__email", "member__name"]
    list_select_related = ["member"]


class ReferralsMemberAdmin(LoyaltyMemberAdmin):
    """The member admin (members' own, with loyalty's balance and adjustments), plus: a member staff add gets
    their referral code at once, as one registered through the API does."""

    readonly_fields = [*LoyaltyMemberAdmin.readonly_fields, "referral_code", "referrals"]

    @admin.display(description=_("Referrals"))
    def referrals(self, obj: Member) -> str:
        if not obj.pk:
            return "-"
        rows = list(Referral.objects.filter(referrer=obj).select_related("referred").order_by("-id")[:20])
        came = Referral.objects.filter(referred=obj).select_related("referrer").first()
        lines = [format_html("{} {} ({})", gettext("Invited by"), came.referrer, came.get_status_display())] if came \
            else []
        lines += [format_html("{} {} ({})", gettext("Invited"), r.referred, r.get_status_display()) for r in rows]
        return format_html("<br>".join(["{}"] * len(lines)), *lines) if lines else "-"
    fieldsets = [*LoyaltyMemberAdmin.fieldsets, (_("Referrals"), {"fields": ["referral_code", "referrals"]})]

    @admin.display(description=_("Referral code"))
    def referral_code(self, obj: Member) -> str:
        return (referral_code_of(member=obj) if obj.pk else None) or "-"

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            referral_code_ensure(member=obj)


admin.site.unregister(Member)
admin.site.register(Member, ReferralsMemberAdmin)
