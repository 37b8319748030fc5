from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from core.admin_mixins import (
    AuditedAdminMixin,
    BoundedNumbersAdminMixin,
    ReadOnlyMixin,
    SingletonAdminMixin,
    ThemedFormMixin,
    currency_field,
)
from loyalty.admin import ProgramSettingsAdmin
from loyalty.models import ProgramSettings

from . import selectors
from .models import Cause, Redemption, RedemptionRules, Reward, Voucher


@admin.register(RedemptionRules)
class RedemptionRulesAdmin(AuditedAdminMixin, BoundedNumbersAdminMixin, SingletonAdminMixin, ModelAdmin):
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

    @admin.display(description=_("Effective reward rate"))
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


class RewardForm(ThemedFormMixin, forms.ModelForm):
    """A reward's fields required by its kind, with errors on the field to fix (never a raw constraint message)."""

    currency = currency_field(required=False, label=_("Currency"))

    def clean(self):
        data = super().clean()
        kind, value = data.get("kind"), data.get("value")
        if kind == Reward.Kind.PERCENT_DISCOUNT:
            if value is None:
                self.add_error("value", _("A percentage discount needs its percentage."))
            elif not Decimal("0") < value <= Decimal("100"):
                self.add_error("value", _("A percentage is more than 0 and at most 100."))
        elif kind == Reward.Kind.FIXED_DISCOUNT:
            if value is None:
                self.add_error("value", _("A fixed discount needs its amount."))
            elif value <= 0:
                self.add_error("value", _("The discount must be more than 0."))
        if kind == Reward.Kind.DONATION and not data.get("cause"):
            self.add_error("cause", _("A donation needs the cause it goes to."))
        if data.get("limit_period") and not data.get("per_period_limit"):
            self.add_error("per_period_limit", _("Give the limit for the period, or clear the period."))
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] <= data["valid_from"]:
            self.add_error("valid_until", _("The end comes after the start."))
        return data


@admin.register(Reward)
class RewardAdmin(AuditedAdminMixin, BoundedNumbersAdminMixin, ModelAdmin):
    form = RewardForm
    list_display = ["code", "name", "kind", "points_cost", "stock", "valid_from", "valid_until", "active"]
    list_filter = ["kind", "active", "tiers"]
    search_fields = ["code", "name"]
    filter_horizontal = ["tiers", "plans"]


@admin.register(Cause)
class CauseAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ["code", "name", "donated_points"]
    readonly_fields = ["donated_points"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["id", "member", "kind", "reward", "quantity", "points", "points_returned", "order_id", "status",
                    "channel", "created_at"]
    list_filter = ["kind", "status", "channel"]
    search_fields = ["member__external_id", "order_id"]
    list_select_related = ["member", "channel", "reward"]


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["code", "reward", "member", "status", "expires_at", "redeemed_at", "redeemed_store"]
    list_filter = ["status", "reward"]
    search_fields = ["code", "member__external_id"]
    list_select_related = ["reward", "member"]
    # Vouchers are used and voided from the member's page (with a reason, giving the points back when the whole
    # redemption is voided); this list is read-only.
