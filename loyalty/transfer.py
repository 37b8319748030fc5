"""Import of members with their opening balances, and export of the ledger, in the admin (django-import-export).

Members file (CSV or XLSX), one member a row; only `external_id` is required:

    external_id,name,email,phone,birth_date,timezone,language,marketing_consent,card_number,joined_at,opening_balance

A new member is registered through `members.services.member_register` (its own checks: phone, time zone, birth
date ...); a member who exists is left as they are. `opening_balance` (points) is given once per member
(`loyalty.services.opening_balances_give`, an adjustment with the reason code `opening_balance`, keyed by the
member's external_id), after the batch's rows, with all its members locked at once. Importing the same file again
registers nobody and gives nothing: every row is "skipped".
"""

import csv
import tempfile
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from import_export import fields, resources, widgets
from import_export.formats.base_formats import CSV, XLSX
from import_export.instance_loaders import CachedInstanceLoader
from import_export.signals import post_export

from core.errors import ApplicationError
from core.transfer import (
    BatchedImportMixin,
    DateTimeWidget,
    DateWidget,
    PointsWidget,
    SafeExportMixin,
    formula_safe,
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


EXPORT_BATCH = 2000


def transactions_in_batches(queryset, columns: list[str], batch_size: int = EXPORT_BATCH):
    """The values of `columns` (lookups such as member__external_id) of a period's rows, in keyset batches in id
    order: one query per batch through the primary key, memory holds one batch, never the period."""
    queryset = queryset.order_by("id").values_list("id", *columns)
    last = 0
    while True:
        batch = list(queryset.filter(id__gt=last)[:batch_size])
        if not batch:
            return
        for row in batch:
            yield row[1:]
        last = batch[-1][0]


class _Echo:
    def write(self, value):
        return value


class StreamedLedgerExportMixin:
    """The ledger export streams: CSV is written row by row to the response as batches are read; XLSX goes row by
    row into a write-only workbook on disk (openpyxl), then the file is sent. Neither holds the period in memory."""

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        if not self.has_export_permission(request):
            raise PermissionDenied
        export_class = self.choose_export_resource_class(export_form, request) if export_form else None
        resource = (export_class or TransactionExportResource)()
        chosen = self.get_export_resource_fields_from_form(export_form) if export_form else None
        export_fields = resource.get_export_fields(chosen)
        headers = [f.column_name for f in export_fields]
        # Plain values straight from the database (numbers stay numbers in a spreadsheet), no model per row.
        rows = transactions_in_batches(queryset, [f.attribute for f in export_fields])
        filename = self.get_export_filename(request, queryset, file_format)
        post_export.send(sender=None, model=self.model)
        if isinstance(file_format, XLSX):
            from openpyxl import Workbook

            book = Workbook(write_only=True)
            sheet = book.create_sheet()
            sheet.append(headers)
            for row in rows:
                sheet.append([_cell(v) for v in row])
            out = tempfile.TemporaryFile()
            book.save(out)
            out.seek(0)
            return FileResponse(out, as_attachment=True, filename=filename, content_type=file_format.get_content_type())
        writer = csv.writer(_Echo())
        lines = (writer.writerow([_cell(v) for v in row]) for row in _with_headers(headers, rows))
        response = StreamingHttpResponse((line.encode(self.to_encoding or "utf-8") for line in lines),
                                         content_type=CSV().get_content_type())
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _with_headers(headers, rows):
    yield headers
    yield from rows


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, str):
        return formula_safe(value)
    return value if isinstance(value, int | float) else str(value)


