"""Staff's view of the ledger: read-only, with adjustments as the only way to move points by hand.

Extends the members app's Member admin (this app sits above members) with the balance, the statement and
an "adjust points" form.
"""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from unfold.admin import ModelAdmin

from core.admin_mixins import (
    AuditedAdminMixin,
    BoundedNumbersAdminMixin,
    KeysetListMixin,
    LabelsMixin,
    ListFormField,
    ReadOnlyMixin,
    SingletonAdminMixin,
    ThemedFormMixin,
    currency_field,
    days_item,
)
from core.errors import ApplicationError
from core.fields import PointsFormField
from core.idempotency import derived_key
from core.transfer import ImportExportPermissionMixin
from members.admin import MemberAdmin
from members.models import Member

from . import selectors, services
from .models import (
    BirthdayGift,
    BulkAdjustment,
    CategoryMultiplier,
    LedgerCheck,
    Lot,
    Order,
    ProgramSettings,
    Refund,
    Transaction,
)
from .services.ledger import channel_id
from .transfer import StreamedLedgerExportMixin, TransactionExportResource


class ReadOnlyAdmin(ReadOnlyMixin, ModelAdmin):
    pass

class AdjustForm(ThemedFormMixin, forms.Form):
    points = PointsFormField(help_text="Positive to credit, negative to debit.")
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    key = forms.CharField(widget=forms.HiddenInput)


class LoyaltyMemberAdmin(MemberAdmin):
    readonly_fields = [*MemberAdmin.readonly_fields, "balance", "statement"]
    fieldsets = [*MemberAdmin.fieldsets, (_("Points"), {"fields": ["balance", "statement"]})]
    list_display = ["external_id", "name", "email", "phone", "status", "points", "tier_name", "joined_at"]

    def get_queryset(self, request):
        # Balance and tier for the whole page in the list's one query (no query per row).
        return super().get_queryset(request).annotate(
            points_available=F("account__available"), tier_label=F("tier_status__tier__name"))

    @admin.display(description=_("Points"), ordering="points_available")
    def points(self, obj: Member) -> int:
        return obj.points_available or 0

    @admin.display(description=_("Tier"), ordering="tier_label")
    def tier_name(self, obj: Member) -> str:
        return obj.tier_label or "-"

    def member_actions(self, request, member: Member) -> list[tuple[str, str]]:
        actions = super().member_actions(request, member)
        if request.user.has_perm("loyalty.adjust_points"):
            actions.insert(0, (gettext("Adjust points"), reverse("admin:members_member_adjust", args=[member.pk])))
        return actions

    @admin.display(description=_("Statement (latest 50)"))
    def statement(self, obj: Member) -> str:
        if not obj.pk:
            return "-"
        rows = selectors.statement(member=obj).select_related("actor")[:50]
        heads = [gettext("When"), gettext("Kind"), gettext("Points"), gettext("Available after"),
                 gettext("Pending after"), gettext("Reference"), gettext("Why"), gettext("Staff")]
        return format_html(
            "<div style='overflow-x:auto'><table class='office-table'><tr>{}</tr>{}</table></div>",
            format_html_join("", "<th>{}</th>", ((h,) for h in heads)),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                             "<td>{}</td><td>{}</td></tr>",
                             ((f"{t.created_at:%Y-%m-%d %H:%M}", t.get_kind_display(), f"{t.points:+d}", t.balance_after,
                               t.pending_after, t.reference, t.reason, t.actor or "") for t in rows)),
        )

    @admin.display(description=_("Balance"))
    def balance(self, obj: Member) -> str:
        if not obj.pk:
            return "-"
        b = selectors.balance_get(member=obj)
        expiring = ", ".join(f"{e['points']} ({e['date']})" for e in b.expiring) or "-"
        return format_html(
            "<span class='office-balance'><strong>{}</strong> {}, {} {}, {} {}; {}: {}.</span>",
            b.available, gettext("available"), b.pending, gettext("pending"), b.lifetime_earned,
            gettext("earned in all"), gettext("expiring"), expiring,
        )

    def get_urls(self):
        urls = [path("<int:member_id>/adjust/", self.admin_site.admin_view(self.adjust_view),
                     name="members_member_adjust")]
        return urls + super().get_urls()

    def adjust_view(self, request, member_id: int):
        if not request.user.has_perm("loyalty.adjust_points"):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        form = AdjustForm(request.POST or None, initial={"key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            try:
                # The hidden key makes a double-submitted form one adjustment, not two. The atomic block lets this
                # view go on rendering after a refusal even when it runs inside an outer transaction.
                with transaction.atomic():
                    txn = services.points_adjust(
                        member=member, points=form.cleaned_data["points"], reason=form.cleaned_data["reason"],
                        channel_id=channel_id("admin"), idempotency_key=derived_key("admin", form.cleaned_data["key"]),
                        actor=request.user,
                    )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            except IntegrityError as exc:  # the unique key: this form was already submitted
                if "transaction_idempotent" not in str(exc):
                    raise
                messages.info(request, gettext("This adjustment was already recorded."))
                return redirect("admin:members_member_change", member.pk)
            else:
                messages.success(request, gettext("Adjusted %(points)s points; balance now %(balance)s.") % {
                    "points": f"{txn.points:+d}", "balance": txn.balance_after})
                return redirect("admin:members_member_change", member.pk)
        context = {**self.admin_site.each_context(request), "form": form, "member": member,
                   "title": gettext("Adjust points: %(member)s") % {"member": member}, "opts": self.model._meta,
                   "balance": selectors.balance_get(member=member)}
        return render(request, "admin/loyalty/adjust.html", context)


admin.site.unregister(Member)
admin.site.register(Member, LoyaltyMemberAdmin)


class ProgramSettingsForm(ThemedFormMixin, forms.ModelForm):
    currency = currency_field(label=_("Currency"),
                              help_text=_("Orders in another currency are refused: choose the shop's."))
    expiry_reminder_days = ListFormField(
        label=_("Expiry reminder days"), item=days_item,
        help_text=_("Days before points expire on which members are reminded, separated by commas, e.g. 30, 7; "
                    "empty for no reminders."))


@admin.register(ProgramSettings)
class ProgramSettingsAdmin(AuditedAdminMixin, LabelsMixin, BoundedNumbersAdminMixin, SingletonAdminMixin, ModelAdmin):
    form = ProgramSettingsForm
    labels = {"name": _("Program name"), "earn_points": _("Points earned"), "earn_amount": _("... per amount spent"),
              "rounding": _("Rounding"), "pending_days": _("Pending days (return window)"),
              "expiry_policy": _("Expiry policy"), "expiry_months": _("Months until expiry"),
              "expiry_month": _("Expiry month"), "expiry_day": _("Expiry day"), "refund_policy": _("Refund policy"),
              "clerk_adjust_limit": _("Clerk's adjustment limit"),
              "birthday_catch_up_days": _("Birthday catch-up days")}
    number_bounds = {  # the earning rates the program supports
        "earn_points": {"min_value": 1, "max_value": 1000},
        "earn_amount": {"min_value": Decimal("0.01"), "max_value": Decimal("10000.00")},
    }
    fieldsets = [
        (None, {"fields": ["name", "currency"]}),
        (_("Earning"), {"fields": ["earn_points", "earn_amount", "rounding", "pending_days"]}),
        (_("Expiry"), {"fields": ["expiry_policy", "expiry_months", "expiry_month", "expiry_day"]}),
        (_("Refunds and staff"), {"fields": ["refund_policy", "clerk_adjust_limit"]}),
        (_("Automated care"), {"fields": ["expiry_reminder_days", "birthday_catch_up_days"]}),
    ]



@admin.register(CategoryMultiplier)
class CategoryMultiplierAdmin(AuditedAdminMixin, BoundedNumbersAdminMixin, ModelAdmin):
    number_bounds = {"multiplier": {"min_value": Decimal("0"), "max_value": Decimal("100")}}
    list_display = ["category", "multiplier", "active"]
    list_editable = ["multiplier", "active"]


@admin.register(Transaction)
class TransactionAdmin(ImportExportPermissionMixin, StreamedLedgerExportMixin, ExportMixin, KeysetListMixin,
                       ReadOnlyAdmin):
    """The ledger, read-only; managers export a period of it (the date filter chooses the period) as CSV or XLSX."""

    export_permission = "loyalty.export_transaction"
    export_resources = [TransactionExportResource]
    list_display = ["id", "created_at", "member", "kind", "points", "balance_after", "pending_after", "reference",
                    "channel", "actor"]
    list_filter = ["kind", "channel", ("created_at", admin.DateFieldListFilter)]
    # Exact member id only: a contains-search, or an OR with another column, reads every row of the ledger.
    search_fields = ["=member__external_id"]
    search_help_text = _("The member's id, exactly as the shop sends it.")
    list_select_related = ["member", "channel", "actor"]


@admin.register(Lot)
class LotAdmin(KeysetListMixin, ReadOnlyAdmin):
    list_display = ["id", "member", "amount", "remaining", "released", "earned_at", "available_at", "expires_at"]
    list_filter = ["released"]
    search_fields = ["member__external_id"]
    list_select_related = ["member"]


@admin.register(Order)
class OrderAdmin(KeysetListMixin, ReadOnlyAdmin):
    list_display = ["order_id", "channel", "member", "amount", "currency", "points_earned", "refunded_amount",
                    "points_reversed", "created_at"]
    search_fields = ["order_id", "member__external_id"]
    list_filter = ["channel"]
    list_select_related = ["member", "channel"]


class ShortfallFilter(admin.SimpleListFilter):
    title = "shortfall"
    parameter_name = "shortfall"

    def lookups(self, request, model_admin):
        return [("yes", "With a shortfall still owed"), ("no", "Nothing owed")]

    def queryset(self, request, queryset):
        owed = F("recovered") + F("written_off")
        if self.value() == "yes":
            return queryset.filter(shortfall__gt=owed)
        if self.value() == "no":
            return queryset.filter(shortfall=owed)
        return queryset


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """Take-backs (refunded orders and revoked bonuses), with the shortfall filter as staff's review queue for
    points spent before they were taken back."""

    list_display = ["id", "order", "bonus", "amount", "points_due", "points_taken", "shortfall", "recovered",
                    "written_off", "substituted", "restored", "created_at"]
    list_filter = [ShortfallFilter]
    search_fields = ["order__order_id", "order__member__external_id", "bonus__member__external_id"]


@admin.register(BirthdayGift)
class BirthdayGiftAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "member", "year", "birthday", "tier_code", "points", "reward_code", "transaction"]
    list_filter = ["year", "tier_code"]
    search_fields = ["member__external_id"]
    list_select_related = ["member"]


@admin.register(LedgerCheck)
class LedgerCheckAdmin(ReadOnlyAdmin):
    """The nightly proof of the books: a run with drift is a problem to look into at once."""

    list_display = ["started_at", "members_checked", "lots_checked", "drifted", "finished_at"]
    list_filter = ["drifted"]


@admin.register(BulkAdjustment)
class BulkAdjustmentAdmin(ReadOnlyAdmin):
    """Bulk awards and corrections made through the API, with their progress (the job fills it in)."""

    list_display = ["id", "created_at", "points", "reason", "source", "status", "total", "done", "skipped", "actor",
                    "channel", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["actor", "channel"]
