from django.contrib import admin, messages

from core.admin_mixins import BoundedNumbersAdminMixin, ReadOnlyMixin
from core.errors import ApplicationError
from loyalty.admin import LoyaltyMemberAdmin
from members.models import Member

from .models import Program, ProgramStep, Referral, ReferralCode, ReferralReward
from .selectors import referral_code_of
from .services import referral_code_ensure, referral_review


class ProgramStepInline(BoundedNumbersAdminMixin, admin.TabularInline):
    model = ProgramStep
    extra = 1


@admin.register(Program)
class ProgramAdmin(BoundedNumbersAdminMixin, admin.ModelAdmin):
    list_display = ["name", "active", "kind", "referrer_points", "welcome_points", "min_order_amount", "qualify_days",
                    "monthly_cap", "total_cap", "second_level", "created_at"]
    list_filter = ["active", "kind"]
    inlines = [ProgramStepInline]
    fieldsets = [
        (None, {"fields": ["name", "active", "kind", "referrer_points", "welcome_points"]}),
        ("Success", {"fields": ["min_order_amount", "qualify_days", "attach_days"]}),
        ("Caps", {"fields": ["monthly_cap", "total_cap"]}),
        ("Second level", {"fields": ["second_level", "second_level_percent"]}),
        ("Fraud checks", {"fields": ["device_threshold", "device_window_hours"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # kept for history: referrals point at the program they were made under


class ReferralRewardInline(ReadOnlyMixin, admin.TabularInline):
    model = ReferralReward
    fields = ["role", "member", "points", "transaction", "revoke_transaction", "created_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Referral)
class ReferralAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "referrer", "referred", "code", "status", "reasons", "ordinal", "created_at",
                    "qualified_at"]
    list_filter = ["status", "program"]
    search_fields = ["code", "referrer__external_id", "referred__external_id", "referrer__email", "referred__email"]
    list_select_related = ["referrer", "referred"]
    raw_id_fields = ["referrer", "referred", "order"]
    inlines = [ReferralRewardInline]
    actions = ["approve", "reject"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # read-only: staff decide through the actions, which pay through the ledger

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm("referrals.review_referral")

    def _review(self, request, queryset, approve: bool) -> None:
        done, refused = 0, []
        for pk in queryset.values_list("pk", flat=True):
            try:
                referral_review(referral_id=pk, approve=approve, actor=request.user)
                done += 1
            except ApplicationError as exc:
                refused.append(f"#{pk}: {exc.message}")
        if done:
            self.message_user(request, f"{'Approved' if approve else 'Rejected'} {done} referral(s).")
        for message in refused:
            self.message_user(request, message, level=messages.WARNING)

    @admin.action(description="Approve (pay) the selected held referrals", permissions=["review"])
    def approve(self, request, queryset):
        self._review(request, queryset, approve=True)

    @admin.action(description="Reject the selected held referrals (they never pay)", permissions=["review"])
    def reject(self, request, queryset):
        self._review(request, queryset, approve=False)


@admin.register(ReferralCode)
class ReferralCodeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "member", "created_at"]
    search_fields = ["code", "member__external_id", "member__email", "member__name"]
    list_select_related = ["member"]


class ReferralsMemberAdmin(LoyaltyMemberAdmin):
    """The member admin (members' own, with loyalty's balance and adjustments), plus: a member staff add gets
    their referral code at once, as one registered through the API does."""

    readonly_fields = [*LoyaltyMemberAdmin.readonly_fields, "referral_code"]
    fieldsets = [*LoyaltyMemberAdmin.fieldsets, ("Referrals", {"fields": ["referral_code"]})]

    @admin.display(description="Referral code")
    def referral_code(self, obj: Member) -> str:
        return (referral_code_of(member=obj) if obj.pk else None) or "-"

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            referral_code_ensure(member=obj)


admin.site.unregister(Member)
admin.site.register(Member, ReferralsMemberAdmin)
