from decimal import Decimal

from django.contrib import admin, messages

from core.admin_mixins import BoundedNumbersAdminMixin, ReadOnlyMixin, SingletonAdminMixin
from core.errors import ApplicationError
from loyalty.admin import ProgramSettingsAdmin
from loyalty.models import ProgramSettings

from . import selectors, services
from .models import Cause, Redemption, RedemptionRules, Reward, Voucher


@admin.register(RedemptionRules)
class RedemptionRulesAdmin(BoundedNumbersAdminMixin, SingletonAdminMixin, admin.ModelAdmin):
    pass


def _percent(value) -> str:
    return f"{value.quantize(Decimal('0.01'))}%"


class ProgramSettingsRateAdmin(ProgramSettingsAdmin):
    """The program settings with what the rules add up to for members: the loyalty app cannot see the value of a
    point (the redemption rules live here), so this app extends its admin, as loyalty extends the Member admin."""

    readonly_fields = [*ProgramSettingsAdmin.readonly_fields, "effective_reward_rate"]
    fieldsets = [
        (name, {**options, "fields": [*options["fields"], "effective_reward_rate"]}) if name == "Earning" else (name, options)
        for name, options in ProgramSettingsAdmin.fieldsets
    ]

    @admin.display(description="Effective reward rate")
    def effective_reward_rate(self, obj) -> str:
        rate = selectors.reward_rate_effective()
        tiers = ", ".join(f"{name} {_percent(percent)}" for name, percent in rate["tiers"])
        return (f"{_percent(rate['percent'])} back on spend "
                f"({rate['points_per_unit_spent'].normalize():f} point(s) per 1.00 spent x "
                f"{rate['point_value'].normalize():f} per point at checkout)"
                + (f"; by tier: {tiers}" if tiers else "")
                + ". Category multipliers and paid plans raise it on what they apply to. Saved values; "
                  "the value of a point is in the redemption rules.")


admin.site.unregister(ProgramSettings)
admin.site.register(ProgramSettings, ProgramSettingsRateAdmin)


@admin.register(Reward)
class RewardAdmin(BoundedNumbersAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "points_cost", "stock", "valid_from", "valid_until", "active"]
    list_filter = ["kind", "active", "tiers"]
    search_fields = ["code", "name"]
    filter_horizontal = ["tiers", "plans"]


@admin.register(Cause)
class CauseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "donated_points"]
    readonly_fields = ["donated_points"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "member", "kind", "reward", "quantity", "points", "points_returned", "order_id", "status",
                    "channel", "created_at"]
    list_filter = ["kind", "status", "channel"]
    search_fields = ["member__external_id", "order_id"]
    list_select_related = ["member", "channel", "reward"]


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "reward", "member", "status", "expires_at", "redeemed_at", "redeemed_store"]
    list_filter = ["status", "reward"]
    search_fields = ["code", "member__external_id"]
    list_select_related = ["reward", "member"]
    actions = ["void"]

    def has_void_permission(self, request) -> bool:
        return request.user.has_perm("rewards.void_voucher")

    @admin.action(description="Void the selected vouchers", permissions=["void"])
    def void(self, request, queryset) -> None:
        done = 0
        for voucher in queryset:
            try:
                services.voucher_void(voucher=voucher, reason="Voided by staff", actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{voucher.code}: {exc.message}", messages.WARNING)
        self.message_user(request, f"Voided {done} voucher(s).")
