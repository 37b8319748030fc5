"""Admin building blocks shared by the apps."""

import re

from django import forms
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.db import models
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    CHECKBOX_CLASSES,
    INPUT_CLASSES,
    SELECT_CLASSES,
    TEXTAREA_CLASSES,
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
)

from .fields import DecimalFormField, PointsFormField


class DataHistoryMixin:
    """The "History" button of a tracked object's page opens its data-change history (who, when, each field's old
    and new value: core.history) rather than Django's list of admin actions ("Changed currency")."""

    def history_view(self, request, object_id, extra_context=None):
        from .history import event_model_for, history_url

        if event_model_for(self.model) is not None:
            return redirect(history_url(self.model, object_id))
        return super().history_view(request, object_id, extra_context)




def themed(widget: forms.Widget) -> forms.Widget:
    """A plain widget dressed in the admin theme's classes (unfold's), as unfold's own widgets are; unchanged if it
    already is."""
    if (isinstance(widget, forms.HiddenInput | forms.MultiWidget) or type(widget).__name__.startswith(("Unfold",
                                                                                                       "Related"))
            or "border" in widget.attrs.get("class", "")):
        return widget
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        return widget  # styled by the theme's stylesheet (office.css) item by item
    if isinstance(widget, forms.CheckboxInput):
        classes = CHECKBOX_CLASSES
    elif isinstance(widget, forms.Select):
        classes = SELECT_CLASSES
    elif isinstance(widget, forms.Textarea):
        classes = TEXTAREA_CLASSES
    else:
        classes = INPUT_CLASSES
    widget.attrs["class"] = " ".join([*classes, widget.attrs.get("class", "")]).strip()
    return widget


class ThemedFormMixin:
    """For our own admin forms (the counter's, reasons, settings fields declared on the form): every widget in the
    theme's look, like the fields the ModelAdmin builds."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            themed(field.widget)


class ReadOnlyMixin(DataHistoryMixin):
    """Records staff may read but never add, change or delete (the ledger, logs, histories)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SingletonAdminMixin:
    """Settings kept in one row (the model's `current()`): the list opens that row, which cannot be deleted."""

    def has_add_permission(self, request) -> bool:
        return not self.model.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        opts = self.model._meta
        return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", self.model.current().pk)


class BoundedNumbersAdminMixin:
    """For a ModelAdmin (or inline) that edits numbers: every integer is a plain number within +-MAX_POINTS (points,
    costs, limits, days alike), every decimal a plain number (its digits and places bounded by its column)."""

    formfield_overrides = {
        models.IntegerField: {"form_class": PointsFormField},
        models.BigIntegerField: {"form_class": PointsFormField},  # the theme has its own entry for big integers
        models.DecimalField: {"form_class": DecimalFormField},
    }
    number_bounds: dict[str, dict] = {}
    """Narrower bounds for some fields, e.g. {"earn_points": {"min_value": 1, "max_value": 1000}}."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return super().formfield_for_dbfield(db_field, request, **{**self.number_bounds.get(db_field.name, {}),
                                                                   **kwargs})


# --- Fields that cannot be typed wrong ----------------------------------------------------------------------------

_ISO_4217 = """
AED UAE dirham|AFN Afghan afghani|ALL Albanian lek|AMD Armenian dram|ANG Netherlands Antillean guilder|
AOA Angolan kwanza|ARS Argentine peso|AUD Australian dollar|AWG Aruban florin|AZN Azerbaijani manat|
BAM Bosnia and Herzegovina convertible mark|BBD Barbados dollar|BDT Bangladeshi taka|BGN Bulgarian lev|
BHD Bahraini dinar|BIF Burundian franc|BMD Bermudian dollar|BND Brunei dollar|BOB Boliviano|BRL Brazilian real|
BSD Bahamian dollar|BTN Bhutanese ngultrum|BWP Botswana pula|BYN Belarusian ruble|BZD Belize dollar|
CAD Canadian dollar|CDF Congolese franc|CHF Swiss franc|CLP Chilean peso|CNY Chinese yuan (renminbi)|
COP Colombian peso|CRC Costa Rican colon|CUP Cuban peso|CVE Cape Verdean escudo|CZK Czech koruna|
DJF Djiboutian franc|DKK Danish krone|DOP Dominican peso|DZD Algerian dinar|EGP Egyptian pound|
ERN Eritrean nakfa|ETB Ethiopian birr|EUR Euro|FJD Fiji dollar|FKP Falkland Islands pound|GBP Pound sterling|
GEL Georgian lari|GHS Ghanaian cedi|GIP Gibraltar pound|GMD Gambian dalasi|GNF Guinean franc|
GTQ Guatemalan quetzal|GYD Guyanese dollar|HKD Hong Kong dollar|HNL Honduran lempira|HTG Haitian gourde|
HUF Hungarian forint|IDR Indonesian rupiah|ILS Israeli new shekel|INR Indian rupee|IQD Iraqi dinar|
IRR Iranian rial|ISK Icelandic krona|JMD Jamaican dollar|JOD Jordanian dinar|JPY Japanese yen|
KES Kenyan shilling|KGS Kyrgyzstani som|KHR Cambodian riel|KMF Comoro franc|KPW North Korean won|
KRW South Korean won|KWD Kuwaiti dinar|KYD Cayman Islands dollar|KZT Kazakhstani tenge|LAK Lao kip|
LBP Lebanese pound|LKR Sri Lankan rupee|LRD Liberian dollar|LSL Lesotho loti|LYD Libyan dinar|
MAD Moroccan dirham|MDL Moldovan leu|MGA Malagasy ariary|MKD Macedonian denar|MMK Myanmar kyat|
MNT Mongolian togrog|MOP Macanese pataca|MRU Mauritanian ouguiya|MUR Mauritian rupee|MVR Maldivian rufiyaa|
MWK Malawian kwacha|MXN Mexican peso|MYR Malaysian ringgit|MZN Mozambican metical|NAD Namibian dollar|
NGN Nigerian naira|NIO Nicaraguan cordoba|NOK Norwegian krone|NPR Nepalese rupee|NZD New Zealand dollar|
OMR Omani rial|PAB Panamanian balboa|PEN Peruvian sol|PGK Papua New Guinean kina|PHP Philippine peso|
PKR Pakistani rupee|PLN Polish zloty|PYG Paraguayan guarani|QAR Qatari riyal|RON Romanian leu|
RSD Serbian dinar|RUB Russian ruble|RWF Rwandan franc|SAR Saudi riyal|SBD Solomon Islands dollar|
SCR Seychelles rupee|SDG Sudanese pound|SEK Swedish krona|SGD Singapore dollar|SHP Saint Helena pound|
SLE Sierra Leonean leone|SOS Somali shilling|SRD Surinamese dollar|SSP South Sudanese pound|
STN Sao Tome and Principe dobra|SVC Salvadoran colon|SYP Syrian pound|SZL Swazi lilangeni|THB Thai baht|
TJS Tajikistani somoni|TMT Turkmenistan manat|TND Tunisian dinar|TOP Tongan pa'anga|TRY Turkish lira|
TTD Trinidad and Tobago dollar|TWD New Taiwan dollar|TZS Tanzanian shilling|UAH Ukrainian hryvnia|
UGX Ugandan shilling|USD United States dollar|UYU Uruguayan peso|UZS Uzbekistan sum|VES Venezuelan bolivar|
VND Vietnamese dong|VUV Vanuatu vatu|WST Samoan tala|XAF Central African CFA franc|XCD East Caribbean dollar|
XOF West African CFA franc|XPF CFP franc|YER Yemeni rial|ZAR South African rand|ZMW Zambian kwacha|
ZWG Zimbabwe gold
"""
CURRENCIES: list[tuple[str, str]] = [
    (item.strip()[:3], f"{item.strip()[:3]} - {item.strip()[4:]}") for item in _ISO_4217.split("|") if item.strip()
]
"""ISO 4217 currencies in circulation: (code, "code - name")."""


def currency_field(*, required: bool = True, **kwargs) -> forms.ChoiceField:
    """A currency picked from ISO 4217, not typed ("eur", "euro" cannot be saved)."""
    choices = CURRENCIES if required else [("", _("(the program's currency)")), *CURRENCIES]
    kwargs.setdefault("widget", UnfoldAdminSelectWidget)
    return forms.ChoiceField(choices=choices, required=required, **kwargs)


class ListFormField(forms.CharField):
    """A list edited as comma-separated words (perks, reminder days): each item checked, the list saved as JSON.
    `item` turns one stripped word into its value or raises ValidationError."""

    def __init__(self, *, item=None, max_items: int = 20, **kwargs) -> None:
        self.item, self.max_items = item or (lambda word: word), max_items
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Separate the items with commas."))
        kwargs.setdefault("widget", UnfoldAdminTextInputWidget)
        kwargs.pop("encoder", None), kwargs.pop("decoder", None)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value) -> list:
        if isinstance(value, list):
            return value
        value = (value or "").strip()
        if value.startswith("[") and value.endswith("]"):  # a list pasted as JSON: ["a", "b"] reads as a, b
            value = value[1:-1].replace('"', "").replace("'", "")
        words = [w.strip() for w in (value or "").replace("，", ",").split(",") if w.strip()]
        if len(words) > self.max_items:
            raise ValidationError(_("At most %(n)d items.") % {"n": self.max_items})
        items = []
        for word in words:
            value = self.item(word)
            if value not in items:
                items.append(value)
        return items

    def has_changed(self, initial, data) -> bool:
        return self.to_python(initial or []) != self.to_python(data)


_SLUG = re.compile(r"[a-z0-9_]{1,40}")


def slug_item(word: str) -> str:
    if not _SLUG.fullmatch(word.lower()):
        raise ValidationError(_("“%(word)s” is not a valid name: use lowercase letters, digits and _.") % {"word": word})
    return word.lower()


def days_item(word: str) -> int:
    if not re.fullmatch(r"[0-9]{1,3}", word, re.ASCII) or not 1 <= int(word) <= 365:
        raise ValidationError(_("“%(word)s” is not a number of days from 1 to 365.") % {"word": word})
    return int(word)


class ChoiceListFormField(forms.TypedMultipleChoiceField):
    """A list of known values, as checkboxes: anything else (a typo such as "points_expring") is refused."""

    widget = UnfoldAdminCheckboxSelectMultipleWidget

    def __init__(self, *, choices, **kwargs) -> None:
        for name in ("encoder", "decoder", "max_length"):
            kwargs.pop(name, None)
        kwargs.setdefault("required", False)
        super().__init__(choices=choices, **kwargs)

    def prepare_value(self, value):
        return value if isinstance(value, list | tuple) else []


class LabelsMixin:
    """Form labels in the staff's language for a ModelAdmin: `labels` maps a field's name to a lazily translated
    label (the models' verbose names are not marked for translation)."""

    labels: dict = {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in self.labels:
            field.label = self.labels[db_field.name]
        return field


def _plain_value(value):
    """A form value as the audit log keeps it (JSON): rows by primary key, numbers and dates as text."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet | list | tuple | set):
        items = [_plain_value(v) for v in value]
        return sorted(items, key=str) if isinstance(value, models.QuerySet | set) else items
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


class AuditedAdminMixin(DataHistoryMixin):
    """Every add or change through this ModelAdmin is written to the audit log: who, when, and for each changed
    field its old and new value (secrets masked), so "Changed currency" says from what to what."""

    audit_masked = {"secret"}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")  # a web address typed without a scheme (Django 6's default)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _changes(self, form) -> dict:
        changes = {}
        for name in form.changed_data:
            old, new = _plain_value(form.initial.get(name)), _plain_value(form.cleaned_data.get(name))
            if name in self.audit_masked:
                old, new = "***" if old else old, "***"
            changes[name] = {"old": old, "new": new}
        return changes

    def construct_change_message(self, request, form, formsets, add=False):
        # The object's History page says what changed from what to what, not only "Changed currency".
        changes = {} if add else self._changes(form)
        if not changes or formsets and any(f.has_changed() for f in formsets):
            return super().construct_change_message(request, form, formsets, add)
        return "; ".join(f"{form.fields[name].label or name}: {c['old']} → {c['new']}" if name in form.fields
                         else f"{name}: {c['old']} → {c['new']}" for name, c in changes.items())

    def save_model(self, request, obj, form, change) -> None:
        from core.services import audit_record

        changes = self._changes(form)
        super().save_model(request, obj, form, change)
        opts = self.model._meta
        audit_record(action=f"{opts.model_name}.{'change' if change else 'add'}", target_type=opts.model_name,
                     target_id=obj.pk, actor=request.user, details={"changes": changes})


# --- Lists over the ledger's big tables ---------------------------------------------------------------------------

NEWER, OLDER = "after", "before"


class KeysetChangeList(ChangeList):
    """A change list that pages by the primary key, newest first: `?before=<id>` shows the page older than that row,
    `?after=<id>` the page newer. It never counts the table and never skips rows with OFFSET, so the thousandth page
    of ten million transactions costs what the first does (Django's own list counts every row twice per page and
    reads all the rows it skips)."""

    def get_filters_params(self, params=None):
        params = super().get_filters_params(params)
        for name in (NEWER, OLDER):
            params.pop(name, None)
        return params

    def get_results(self, request):
        per_page = self.list_per_page
        queryset = self.queryset.order_by("-pk")
        newer, older = _key(request.GET.get(NEWER)), _key(request.GET.get(OLDER))
        if newer is not None:
            rows = list(queryset.filter(pk__gt=newer).order_by("pk")[: per_page + 1])
            has_newer, has_older = len(rows) > per_page, True
            rows = rows[:per_page][::-1]
        else:
            rows = list((queryset.filter(pk__lt=older) if older is not None else queryset)[: per_page + 1])
            has_newer, has_older = older is not None, len(rows) > per_page
            rows = rows[:per_page]
        self.result_list = rows
        self.result_count = len(rows)
        self.full_result_count = None
        self.show_full_result_count = False
        self.show_admin_actions = True
        self.can_show_all = False
        self.multi_page = False
        self.paginator = self.model_admin.get_paginator(request, rows, per_page)
        self.newer_url = self.get_query_string({NEWER: rows[0].pk}, [OLDER, PAGE_VAR]) if has_newer and rows else None
        self.older_url = self.get_query_string({OLDER: rows[-1].pk}, [NEWER, PAGE_VAR]) if has_older and rows else None
        if not rows and (newer is not None or older is not None):  # paged past the end: offer the way back
            self.newer_url = self.get_query_string({}, [NEWER, OLDER, PAGE_VAR])


def _key(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


class KeysetListMixin:
    """For a ModelAdmin over a table that grows without bound (transactions, lots, orders): newest first, paged by
    the key (KeysetChangeList), no column sorting (a sort would need its own index per column), no date hierarchy
    (it aggregates the whole table)."""

    list_per_page = 100
    show_full_result_count = False
    sortable_by = ()
    ordering = ["-pk"]

    def get_changelist(self, request, **kwargs):
        return KeysetChangeList
