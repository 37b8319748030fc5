"""Import and export in the admin (django-import-export): what every app's resources and admins share.

- `BatchedImportMixin` (resources): an import runs in batches of `import_batch_size` rows, each batch its own
  database transaction, in the preview (each batch rolled back) as in the confirmed import (each batch committed
  unless one of its rows is refused, then rolled back whole). A big file thus never holds one transaction, nor its
  members' locks, for its whole length; re-running a file is safe because the resources' writes are idempotent.
- `ImportExportPermissionMixin` (admins): the import and export buttons and URLs need their own permissions
  (`import_permission`, `export_permission`); without them there is no button and the URL answers 403.
- Widgets that read the plain values of a file (dates, points) with messages in the staff's language.
"""

import csv
import datetime as dt
import re
import tempfile

import tablib
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext, pgettext_lazy
from import_export import widgets
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import SelectableFieldsExportForm
from import_export.results import Result
from import_export.signals import post_export

from .errors import ApplicationError
from .fields import MAX_POINTS


class BatchedImportMixin:
    import_batch_size = 500

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None,
                    collect_failed_rows=False, rollback_on_validation_errors=False, **kwargs):
        self.before_batches()
        size = self.import_batch_size
        total = self.get_result_class()()
        total.total_rows = len(dataset)
        for start in range(0, max(len(dataset), 1), size):
            batch = tablib.Dataset(*dataset[start:start + size], headers=dataset.headers)
            # A refused row rolls its whole batch back: no batch is ever written in part.
            part = super().import_data(batch, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True,
                                       collect_failed_rows=collect_failed_rows, rollback_on_validation_errors=True,
                                       **kwargs)
            if not dry_run and (part.has_errors() or part.has_validation_errors()):
                # Rolled back: none of its rows was written, whatever they would have been.
                for kind in ("new", "update", "delete", "skip"):
                    part.totals[kind] = 0
                total.failed_batches = [*getattr(total, "failed_batches", []), (start + 1, start + len(batch))]
            _merge(total, part, offset=start)
        return total

    def before_batches(self) -> None:
        """Runs once before the first batch, outside the batches' transactions (e.g. create a row every batch
        reads, so that it is committed even when the preview's batches roll back)."""


def _merge(total: Result, part: Result, *, offset: int) -> None:
    total.diff_headers = total.diff_headers or part.diff_headers
    for row in part.invalid_rows:
        row.number += offset
    for row in part.error_rows:
        row.number += offset
    for row in part.rows:
        for error in row.errors:
            error.number = (error.number or 0) + offset
    total.rows += part.rows
    total.invalid_rows += part.invalid_rows
    total.error_rows += part.error_rows
    total.base_errors += part.base_errors
    for kind, count in part.totals.items():
        total.totals[kind] += count


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class SafeExportMixin:
    """For export resources: a text cell that a spreadsheet would run as a formula (=, +, -, @ first, e.g. a name
    typed as =HYPERLINK(...)) is written with a leading ' so it stays text; numbers stay numbers."""

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return formula_safe(value) if isinstance(value, str) else value


def formula_safe(value: str) -> str:
    if value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


COLUMN_LABELS = {
    "external_id": pgettext_lazy("file column", "Customer id"),
    "name": pgettext_lazy("file column", "Name"),
    "email": pgettext_lazy("file column", "E-mail"),
    "phone": pgettext_lazy("file column", "Phone"),
    "birth_date": pgettext_lazy("file column", "Birth date"),
    "status": pgettext_lazy("file column", "Status"),
    "joined_at": pgettext_lazy("file column", "Joined"),
    "available": pgettext_lazy("file column", "Points available"),
    "pending": pgettext_lazy("file column", "Points pending"),
    "lifetime_earned": pgettext_lazy("file column", "Points earned in all"),
    "tier": pgettext_lazy("file column", "Tier"),
    "stage": pgettext_lazy("file column", "Lifecycle stage"),
    "value_tier": pgettext_lazy("file column", "Value tier"),
    "loyalty_type": pgettext_lazy("file column", "Loyalty type"),
    "id": pgettext_lazy("file column", "Number"),
    "created_at": pgettext_lazy("file column", "When"),
    "member": pgettext_lazy("file column", "Member"),
    "kind": pgettext_lazy("file column", "Kind"),
    "points": pgettext_lazy("file column", "Points"),
    "available_delta": pgettext_lazy("file column", "Change of available points"),
    "pending_delta": pgettext_lazy("file column", "Change of pending points"),
    "balance_after": pgettext_lazy("file column", "Available after"),
    "pending_after": pgettext_lazy("file column", "Pending after"),
    "reference": pgettext_lazy("file column", "Reference"),
    "reason": pgettext_lazy("file column", "Why"),
    "channel": pgettext_lazy("file column", "Channel"),
    "staff": pgettext_lazy("file column", "Staff"),
    "stage_since": pgettext_lazy("file column", "In this stage since"),
    "recency": pgettext_lazy("file column", "Days since the last order"),
    "frequency": pgettext_lazy("file column", "Orders"),
    "monetary": pgettext_lazy("file column", "Spend"),
    "computed_on": pgettext_lazy("file column", "Computed on"),
}
"""What the export form's checkboxes say for each column of a file, in the staff's language (the column keeps its
code in the file)."""


class LabelledExportForm(SelectableFieldsExportForm):
    def _get_field_label(self, resource, field_name: str) -> str:
        field = resource.fields.get(field_name)
        column = getattr(field, "column_name", None) or field_name
        label = COLUMN_LABELS.get(column)
        return f"{label} ({column})" if label else super()._get_field_label(resource, field_name)


class ImportExportPermissionMixin:
    """For a ModelAdmin with django-import-export's ImportMixin/ExportMixin: CSV and XLSX, each way behind its
    permission; `import_resources` and `export_resources` may differ (the members file in, richer rows out)."""

    import_permission = ""
    export_permission = ""
    import_template_name = "admin/transfer/import.html"
    export_form_class = LabelledExportForm
    import_resources: list = []
    export_resources: list = []

    @property
    def formats(self):
        return [CSV, XLSX]

    def process_result(self, result, request):
        """After a confirmed import: say which batches were rolled back and why, beside the library's summary."""
        for first, last in getattr(result, "failed_batches", []):
            reasons = [str(e.error) for e in result.base_errors]
            reasons += [f"{row.number}: {'; '.join(row.error_dict.get(k, [''])[0] for k in row.error_dict)}"
                        for row in result.invalid_rows if first <= row.number <= last]
            reasons += [f"{number}: {errors[0].error}" for number, errors in result.row_errors()
                        if first <= number <= last]
            messages.error(request, gettext(
                "Rows %(first)d to %(last)d were not imported (their batch was rolled back whole): %(why)s. Import "
                "the same file again once this is fixed; what was imported is skipped.")
                % {"first": first, "last": last, "why": " / ".join(reasons[:5])})
        return super().process_result(result, request)

    def get_import_resource_classes(self, request):
        return self.import_resources

    def get_export_resource_classes(self, request):
        return self.export_resources

    def has_import_permission(self, request) -> bool:
        return bool(self.import_permission) and request.user.has_perm(self.import_permission)

    def has_export_permission(self, request) -> bool:
        return bool(self.export_permission) and request.user.has_perm(self.export_permission)


def refusal(exc: ApplicationError, *, field: str | None = None) -> ValidationError:
    """A service's refusal as a row's validation error, in the staff's language where the catalog has the words."""
    fields = {name: [gettext(str(m)) for m in (msgs if isinstance(msgs, list) else [msgs])]
              for name, msgs in (getattr(exc, "fields", None) or {}).items() if isinstance(msgs, list | str)}
    if fields:
        return ValidationError(fields)
    message = gettext(str(exc.message))
    return ValidationError({field: [message]} if field else message)


class DateWidget(widgets.Widget):
    """A date as 2024-03-31 (ISO 8601)."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        day = parse_date(str(value).strip()) if _safe(value) else None
        if day is None:
            raise ValueError(gettext("“%(value)s” is not a date such as 2024-03-31.") % {"value": value})
        return day

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class DateTimeWidget(widgets.Widget):
    """A moment as 2024-03-31 18:30 or 2024-03-31T18:30:00+08:00 (ISO 8601), or a day (its midnight); without an
    offset, in the program's time zone."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if isinstance(value, dt.datetime):
            moment = value
        elif isinstance(value, dt.date):
            moment = dt.datetime.combine(value, dt.time())
        else:
            text = str(value).strip()
            moment = parse_datetime(text) if _safe(value) else None
            if moment is None and _safe(value) and (day := parse_date(text)) is not None:
                moment = dt.datetime.combine(day, dt.time())
            if moment is None:
                raise ValueError(gettext("“%(value)s” is not a date and time such as 2024-03-31 18:30.")
                                 % {"value": value})
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment

    def render(self, value, obj=None, **kwargs):
        return timezone.localtime(value).isoformat() if value else ""


def _safe(value) -> bool:
    try:
        return len(str(value)) <= 40
    except Exception:  # noqa: BLE001 - a value that cannot even be shown is no date
        return False


class PointsWidget(widgets.Widget):
    """Points: a whole number 0 to 1,000,000,000 written with the digits 0-9; empty is 0."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return 0
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip().replace(",", "")
        if not text.isascii() or not text.isdigit() or int(text) > MAX_POINTS:
            raise ValueError(gettext("“%(value)s” is not a number of points from 0 to %(max)s.")
                             % {"value": value, "max": f"{MAX_POINTS:,}"})
        return int(text)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class MoneyWidget(widgets.Widget):
    """An amount such as 12.50: digits 0-9, at most two decimals, up to 9,999,999,999.99."""

    def clean(self, value, row=None, **kwargs):
        from decimal import Decimal

        from .fields import _MONEY, MAX_MONEY

        if value in (None, ""):
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{value:.2f}" if isinstance(value, float) and round(value, 2) == value else str(value)
        text = str(value).strip()
        if not _MONEY.fullmatch(text) or Decimal(text) > MAX_MONEY:
            raise ValueError(gettext("“%(value)s” is not an amount such as 12.50.") % {"value": value})
        return Decimal(text)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class WordsWidget(widgets.Widget):
    """A list of words separated by | (e.g. coffee|tea)."""

    def clean(self, value, row=None, **kwargs):
        words = [w.strip() for w in str(value or "").split("|") if w.strip()]
        if len(words) > 50 or any(len(w) > 64 for w in words):
            raise ValueError(gettext("At most 50 categories of up to 64 characters each."))
        return sorted(set(words))

    def render(self, value, obj=None, **kwargs):
        return "|".join(value or [])


EXPORT_BATCH = 2000


def rows_in_batches(queryset, columns: list[str], batch_size: int = EXPORT_BATCH):
    """The values of `columns` (lookups such as member__external_id, or annotations) of the queryset's rows, in
    keyset batches in primary-key order: one query per batch through the primary key; memory holds one batch."""
    queryset = queryset.order_by("pk").values_list("pk", *columns)
    last = None
    while True:
        batch = list((queryset if last is None else queryset.filter(pk__gt=last))[:batch_size])
        if not batch:
            return
        for row in batch:
            yield row[1:]
        last = batch[-1][0]


class _Echo:
    def write(self, value):
        return value


class StreamedExportMixin:
    """For an admin with django-import-export's ExportMixin, an export of any size: CSV is written row by row to the
    response as batches are read; XLSX goes row by row into a write-only workbook on disk (openpyxl), then the file
    is sent. Neither holds the rows in memory, and no model is built per row (plain values from the database: numbers
    stay numbers in a spreadsheet; text a spreadsheet would run as a formula stays text)."""

    streamed_resource = None  # the resource when no export form chose one

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        if not self.has_export_permission(request):
            raise PermissionDenied
        chosen = self.choose_export_resource_class(export_form, request) if export_form else None
        resource = (chosen or self.streamed_resource)()
        names = self.get_export_resource_fields_from_form(export_form) if export_form else None
        export_fields = resource.get_export_fields(names)
        headers = [f.column_name for f in export_fields]
        rows = rows_in_batches(resource.filter_export(queryset), [f.attribute for f in export_fields])
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
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, str):
        return formula_safe(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if isinstance(value, int | float) else str(value)
