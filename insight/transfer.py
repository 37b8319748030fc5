"""Import and export in the admin (django-import-export) for what insight knows: members with their balance, tier
and segments; a segment's members; and the shop's order history from before the program.

Order history file (CSV or XLSX), one past order a row:

    member,member_joined_at,member_name,member_email,order_id,amount,occurred_at,categories

A member not known yet is registered (`members.services.member_register`) with their own join date
(`member_joined_at`, else the row's order date); a member who exists is left as they are. The orders go through
`insight.services.order_history_import`, a batch at a time: recorded in the facts (and so the segments and the
lifetime value), never earning points. An order id already imported, or already an order of the program, is
skipped: importing the same file again changes nothing.
"""

from django.core.exceptions import ValidationError
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from import_export import fields, resources, widgets
from import_export.instance_loaders import CachedInstanceLoader

from core.errors import ApplicationError
from core.transfer import (
    BatchedImportMixin,
    DateTimeWidget,
    DateWidget,
    MoneyWidget,
    SafeExportMixin,
    WordsWidget,
    refusal,
)
from loyalty.models import Order
from loyalty.services.ledger import channel_id
from members.models import Member
from members.services import member_register

from . import services
from .models import HistoricalOrder, MemberSegment

MEMBER_EXPORT_COLUMNS = ["external_id", "name", "email", "phone", "birth_date", "status", "joined_at", "available",
                         "pending", "lifetime_earned", "tier", "stage", "value_tier", "loyalty_type"]


class MemberExportResource(SafeExportMixin, resources.ModelResource):
    birth_date = fields.Field(attribute="birth_date", column_name="birth_date", widget=DateWidget())
    joined_at = fields.Field(attribute="joined_at", column_name="joined_at", widget=DateTimeWidget())
    available = fields.Field(attribute="x_available", column_name="available", widget=widgets.IntegerWidget())
    pending = fields.Field(attribute="x_pending", column_name="pending", widget=widgets.IntegerWidget())
    lifetime_earned = fields.Field(attribute="x_lifetime_earned", column_name="lifetime_earned", widget=widgets.IntegerWidget())
    tier = fields.Field(attribute="x_tier", column_name="tier")
    stage = fields.Field(attribute="x_stage", column_name="stage")
    value_tier = fields.Field(attribute="x_value_tier", column_name="value_tier")
    loyalty_type = fields.Field(attribute="x_loyalty_type", column_name="loyalty_type")

    class Meta:
        model = Member
        name = "Members with balance, tier and segments"
        fields = MEMBER_EXPORT_COLUMNS
        export_order = MEMBER_EXPORT_COLUMNS

    def filter_export(self, queryset, **kwargs):
        # Everything in the one query the export reads through a server-side cursor, no query per member.
        return queryset.annotate(
            x_available=Coalesce(F("account__available"), Value(0)), x_pending=Coalesce(F("account__pending"), Value(0)),
            x_lifetime_earned=Coalesce(F("account__lifetime_earned"), Value(0)),
            x_tier=Coalesce(F("tier_status__tier__code"), Value("")), x_stage=Coalesce(F("segment__stage"), Value("")),
            x_value_tier=Coalesce(F("segment__value_tier"), Value("")),
            x_loyalty_type=Coalesce(F("segment__loyalty_type"), Value("")))


class SegmentMembersResource(SafeExportMixin, resources.ModelResource):
    """A segment's members: the Member segments list filtered by stage, value tier or loyalty type."""

    external_id = fields.Field(attribute="member__external_id", column_name="external_id")
    name = fields.Field(attribute="member__name", column_name="name")
    email = fields.Field(attribute="member__email", column_name="email")
    phone = fields.Field(attribute="member__phone", column_name="phone")
    stage_since = fields.Field(attribute="stage_since", column_name="stage_since", widget=DateTimeWidget())
    computed_on = fields.Field(attribute="computed_on", column_name="computed_on", widget=DateWidget())

    class Meta:
        model = MemberSegment
        name = "Segment members"
        fields = ["external_id", "name", "email", "phone", "stage", "stage_since", "value_tier", "loyalty_type",
                  "recency", "frequency", "monetary", "computed_on"]
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("member")


HISTORY_COLUMNS = ["member", "member_joined_at", "member_name", "member_email", "order_id", "amount", "occurred_at",
                   "categories"]


class OrderHistoryImportResource(BatchedImportMixin, resources.ModelResource):
    member = fields.Field(attribute="member_external_id", column_name="member")
    member_joined_at = fields.Field(attribute="member_joined_at", column_name="member_joined_at",
                                    widget=DateTimeWidget())
    member_name = fields.Field(attribute="member_name", column_name="member_name")
    member_email = fields.Field(attribute="member_email", column_name="member_email")
    amount = fields.Field(attribute="amount", column_name="amount", widget=MoneyWidget())
    occurred_at = fields.Field(attribute="occurred_at", column_name="occurred_at", widget=DateTimeWidget())
    categories = fields.Field(attribute="categories", column_name="categories", widget=WordsWidget())

    class Meta:
        model = HistoricalOrder
        name = "Order history"
        fields = HISTORY_COLUMNS
        import_order = HISTORY_COLUMNS
        import_id_fields = ["order_id"]
        instance_loader_class = CachedInstanceLoader
        report_skipped = True

    def get_queryset(self):
        return HistoricalOrder.objects.filter(channel_id=channel_id("admin"))

    def before_batches(self) -> None:
        # The admin channel the writes are keyed on, created and committed now if new: created inside a previewed
        # (rolled back) batch, its id would be remembered by the process and then point nowhere.
        channel_id("admin")

    def before_import(self, dataset, **kwargs):
        self._rows: list[services.HistoryRow] = []
        heads = dataset.headers or []
        ids = {str(v).strip() for v in (dataset["member"] if "member" in heads else []) if v}
        self._members = dict(Member.objects.filter(external_id__in=ids).values_list("external_id", "pk"))
        orders = {str(v).strip() for v in (dataset["order_id"] if "order_id" in heads else []) if v}
        self._live = set(Order.objects.filter(channel_id=channel_id("admin"), order_id__in=orders)
                         .values_list("order_id", flat=True))
        if not hasattr(self, "_seen"):
            self._seen: set[str] = set()

    def before_import_row(self, row, **kwargs):
        errors = {}
        for column, words in (("member", gettext("The member's customer id is required.")),
                              ("order_id", gettext("The order id is required."))):
            row[column] = str(row.get(column) or "").strip()
            if not row[column]:
                errors[column] = [words]
        if row["order_id"] in self._seen:
            errors["order_id"] = [gettext("This order id appears twice in the file.")]
        if errors:
            raise ValidationError(errors)
        self._seen.add(row["order_id"])

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        return bool(instance.pk) or instance.order_id in self._live

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if instance.amount is None and "amount" not in errors:
            errors["amount"] = [gettext("The amount is required.")]
        if instance.occurred_at is None and "occurred_at" not in errors:
            errors["occurred_at"] = [gettext("The order's date is required.")]
        elif instance.occurred_at and instance.occurred_at > timezone.now():
            errors["occurred_at"] = [gettext("The order's date is in the future.")]
        if len(instance.order_id) > 100:
            errors["order_id"] = [gettext("At most 100 characters.")]
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        external_id = instance.member_external_id
        if external_id not in self._members:
            try:
                member = member_register(
                    external_id=external_id, name=getattr(instance, "member_name", "") or "",
                    email=getattr(instance, "member_email", "") or "",
                    joined_at=getattr(instance, "member_joined_at", None) or instance.occurred_at)
            except ApplicationError as exc:
                raise refusal(exc, field="member") from exc
            self._members[external_id] = member.pk
        self._rows.append(services.HistoryRow(member=external_id, order_id=instance.order_id, amount=instance.amount,
                                              occurred_at=instance.occurred_at,
                                              categories=tuple(instance.categories or ())))

    def after_import(self, dataset, result, **kwargs):
        if self._rows and not result.has_errors() and not result.has_validation_errors():
            services.order_history_import(channel_id=channel_id("admin"), rows=self._rows)
