"""Import of members with their opening balances, and export of the ledger, in the admin (django-import-export).

Members file (CSV or XLSX), one member a row; only `external_id` is required:

    external_id,name,email,phone,birth_date,timezone,language,marketing_consent,card_number,joined_at,opening_balance

A new member is registered through `members.services.member_register` (its own checks: phone, time zone, birth
date ...); a member who exists is left as they are. `opening_balance` (points) is given once per member
(`loyalty.services.opening_balances_give`, an adjustment with the reason code `opening_balance`, keyed by the
member's external_id), after the batch's rows, with all its members locked at once. Importing the same file again
registers nobody and gives nothing: every row is "skipped".
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from import_export import fields, resources, widgets
from import_export.instance_loaders import CachedInstanceLoader

from core.errors import ApplicationError
from core.transfer import (
    BatchedImportMixin,
    DateTimeWidget,
    DateWidget,
    PointsWidget,
    SafeExportMixin,
    StreamedExportMixin,
    refusal,
)
from members.models import Member
from members.services import member_register

from . import services
from .models import Transaction
from .services.ledger import channel_id

MEMBER_COLUMNS = ["external_id", "name", "email", "phone", "birth_date", "timezone", "language",
                  "marketing_consent", "card_number", "joined_at", "opening_balance"]


class MemberImportResource(BatchedImportMixin, resources.ModelResource):
    birth_date = fields.Field(attribute="birth_date", column_name="birth_date", widget=DateWidget())
    joined_at = fields.Field(attribute="joined_at", column_name="joined_at", widget=DateTimeWidget())
    marketing_consent = fields.Field(attribute="marketing_consent", column_name="marketing_consent",
                                     widget=widgets.BooleanWidget(), default=False)
    opening_balance = fields.Field(attribute="opening_balance", column_name="opening_balance", widget=PointsWidget())

    class Meta:
        model = Member
        name = "Members and opening balances"
        fields = MEMBER_COLUMNS
        import_order = MEMBER_COLUMNS
        import_id_fields = ["external_id"]
        instance_loader_class = CachedInstanceLoader  # one query per batch, not one per row
        clean_model_instances = True
        report_skipped = True

    def before_batches(self) -> None:
        # The admin channel the writes are keyed on, created and committed now if new: created inside a previewed
        # (rolled back) batch, its id would be remembered by the process and then point nowhere.
        channel_id("admin")

    def before_import(self, dataset, **kwargs):
        self._opening: list[tuple[Member, int]] = []
        self._given = services.opening_balances_given(
            channel_id=channel_id("admin"),
            external_ids=[str(v).strip() for v in (dataset["external_id"] if "external_id" in dataset.headers
                                                   else []) if v])
        if not hasattr(self, "_seen"):
            self._seen: set[str] = set()

    def before_import_row(self, row, **kwargs):
        external_id = str(row.get("external_id") or "").strip()
        if not external_id:
            raise ValidationError({"external_id": [gettext("The customer id (external_id) is required.")]})
        if external_id in self._seen:
            raise ValidationError({"external_id": [gettext("This customer id appears twice in the file.")]})
        self._seen.add(external_id)
        row["external_id"] = external_id

    def import_instance(self, instance, row, **kwargs):
        if instance.pk:  # a member who exists is not changed: only their opening balance may be new
            self.import_field(self.fields["opening_balance"], instance, row, **kwargs)
        else:
            super().import_instance(instance, row, **kwargs)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.column_name in row or field.attribute == "opening_balance":
            field.save(instance, {**row, field.column_name: row.get(field.column_name)}, is_m2m, **kwargs)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or not instance.pk:
            return False
        return not getattr(instance, "opening_balance", 0) or instance.external_id in self._given

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if not instance.pk:
            try:
                instance.full_clean(exclude=[*errors, "phone", "timezone", "joined_at"], validate_unique=False)
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        if is_create:
            try:
                member = member_register(
                    external_id=instance.external_id, name=instance.name, email=instance.email, phone=instance.phone,
                    birth_date=instance.birth_date, timezone_name=instance.timezone or "UTC",
                    marketing_consent=bool(instance.marketing_consent), card_number=instance.card_number or None,
                    joined_at=instance.joined_at, language=instance.language or "en")
            except ApplicationError as exc:
                raise refusal(exc, field="external_id") from exc
            for name in ("pk", "phone", "email", "timezone", "card_number", "language", "joined_at"):
                setattr(instance, name, getattr(member, name))  # the preview shows what registration stored
        else:
            member = instance
        points = getattr(instance, "opening_balance", 0)
        if points and instance.external_id not in self._given:
            self._opening.append((member, points))

    def after_import(self, dataset, result, **kwargs):
        if self._opening and not result.has_errors() and not result.has_validation_errors():
            services.opening_balances_give(entries=self._opening, channel_id=channel_id("admin"),
                                           actor=kwargs.get("user"))


# --- The ledger, for a period ----------------------------------------------------------------------------------

class TransactionExportResource(SafeExportMixin, resources.ModelResource):
    member = fields.Field(attribute="member__external_id", column_name="member")
    channel = fields.Field(attribute="channel__name", column_name="channel")
    actor = fields.Field(attribute="actor__username", column_name="staff")
    created_at = fields.Field(attribute="created_at", column_name="created_at", widget=DateTimeWidget())

    class Meta:
        model = Transaction
        name = "Ledger"
        fields = ["id", "created_at", "member", "kind", "points", "available_delta", "pending_delta",
                  "balance_after", "pending_after", "reference", "reason", "channel", "actor"]
        export_order = fields


class StreamedLedgerExportMixin(StreamedExportMixin):
    """The ledger export streams (core.transfer.StreamedExportMixin): a period of millions of rows is never in
    memory."""

    streamed_resource = TransactionExportResource
