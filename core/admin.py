from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from . import services
from .admin_mixins import AuditedAdminMixin, DataHistoryMixin, ReadOnlyMixin
from .history import event_model_for, tracked_models
from .models import ApiKey, AuditLog, Channel, DataChange


@admin.register(Channel)
class ChannelAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ["name", "description", "created_at"]
    search_fields = ["name"]


@admin.register(ApiKey)
class ApiKeyAdmin(DataHistoryMixin, ModelAdmin):
    list_display = ["name", "channel", "prefix", "scopes", "created_at", "revoked_at"]
    list_filter = ["channel", "revoked_at"]
    search_fields = ["name", "prefix", "channel__name"]
    readonly_fields = ["prefix", "created_at", "created_by", "revoked_at", "last_used_at"]
    fields = ["channel", "name", "scopes", "prefix", "created_at", "created_by", "revoked_at"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        key, raw = services.api_key_create(
            channel=obj.channel, name=obj.name, scopes=obj.scopes or None, created_by=request.user
        )
        obj.pk = key.pk
        obj.prefix = key.prefix
        messages.warning(request, gettext("The new key, shown only this once: %(key)s") % {"key": raw})

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            services.api_key_revoke(api_key=key, actor=request.user)
        self.message_user(request, gettext("Revoked at %(when)s.") % {"when": f"{timezone.now():%Y-%m-%d %H:%M}"})


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["created_at", "actor", "channel", "action", "target_type", "target_id", "details"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "actor__username"]
    date_hierarchy = "created_at"


MODEL_NAMES = [
    _("member"), _("membership settings"), _("tier"), _("plan"), _("webhook endpoint"), _("program settings"),
    _("category multiplier"), _("redemption rules"), _("cause"), _("reward"), _("voucher"), _("referral program"),
    _("program step"), _("referral"), _("insight settings"), _("survey"), _("event type"), _("campaign"),
    _("channel"), _("API key"),
]
"""The tracked models' names (their verbose_name), in the catalog so the History page says them in Chinese too."""

ACTIONS = {"insert": _("created"), "update": _("changed"), "delete": _("deleted")}
NAME_KEYS = ("external_id", "code", "name", "prefix")
"""What names an object in its recorded row, best first (so the list needs no query per row)."""


class TrackedModelFilter(admin.SimpleListFilter):
    title = _("what")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [(m._meta.label_lower, capfirst(gettext(m._meta.verbose_name))) for m in tracked_models()]

    def queryset(self, request, queryset):
        model = self._model()
        return queryset.across(event_model_for(model)) if model is not None else queryset

    def _model(self):
        return next((m for m in tracked_models() if m._meta.label_lower == self.value()), None)


class ObjectFilter(admin.SimpleListFilter):
    """One object's history (the link on its page): with the model filter, by primary key."""

    title = _("object")
    parameter_name = "object"

    def lookups(self, request, model_admin):
        return [(self.value(), f"#{self.value()}")] if self.value() else []

    def queryset(self, request, queryset):
        model = next((m for m in tracked_models() if m._meta.label_lower == request.GET.get("model")), None)
        if not self.value() or model is None:
            return queryset
        try:
            pk = model._meta.pk.to_python(self.value())
        except Exception:  # noqa: BLE001 - a typed address: nothing matches
            return queryset.none()
        # Not pghistory's `tracks()`: it quotes the key with `cursor.mogrify`, which the cursors of server-side
        # binding (DATABASE_PREPARE_THRESHOLD) do not have. The model filter already reads its one table.
        return queryset.filter(pgh_obj_model=model._meta.label, pgh_obj_id=str(pk))


class StaffFilter(admin.SimpleListFilter):
    title = _("who")
    parameter_name = "user"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(is_staff=True).order_by("username")
        return [(str(u.pk), u.get_username()) for u in users]

    def queryset(self, request, queryset):
        return queryset.filter(user_id=int(self.value())) if (self.value() or "").isdigit() else queryset


@admin.register(DataChange)
class DataChangeAdmin(ReadOnlyMixin, ModelAdmin):
    """History: every recorded change of the program's data, newest first, read-only."""

    list_display = ["when", "who", "action", "what", "changes"]
    list_display_links = None
    list_filter = [TrackedModelFilter, StaffFilter, ObjectFilter]
    list_per_page = 50
    ordering = ["-pgh_created_at", "-pgh_id"]
    show_full_result_count = False

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": capfirst(gettext("history")), **(extra_context or {})})

    def get_queryset(self, request):
        return DataChange.objects.all()  # the model's default manager is pghistory's empty one

    @admin.display(description=_("when"), ordering="pgh_created_at")
    def when(self, obj) -> str:
        return f"{timezone.localtime(obj.pgh_created_at):%Y-%m-%d %H:%M:%S}"

    @admin.display(description=_("who"))
    def who(self, obj) -> str:
        context = obj.pgh_context or {}
        if context.get("username"):
            return context["username"]
        if context.get("channel"):
            return gettext("API: %(channel)s") % {"channel": context["channel"]}
        if context.get("user"):
            return f"#{context['user']}"
        return gettext("system")

    @admin.display(description=_("action"))
    def action(self, obj) -> str:
        return ACTIONS.get(obj.pgh_label, obj.pgh_label)

    @admin.display(description=_("object"))
    def what(self, obj) -> str:
        model = _model(obj.pgh_obj_model)
        data = obj.pgh_data or {}
        name = next((str(data[k]) for k in NAME_KEYS if data.get(k)), "")
        label = f"{capfirst(gettext(model._meta.verbose_name))} #{obj.pgh_obj_id}" if model else obj.pgh_obj_model
        text = f"{label} {name}".strip()
        try:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pgh_obj_id])
        except (NoReverseMatch, AttributeError):
            return text
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.display(description=_("changes (old → new)"))
    def changes(self, obj) -> str:
        model = _model(obj.pgh_obj_model)
        if obj.pgh_label == "update" and obj.pgh_diff:
            rows = ((_label(model, k), _shown(model, k, old), _shown(model, k, new))
                    for k, (old, new) in sorted(obj.pgh_diff.items()))
            return format_html("<ul style='margin:0'>{}</ul>", format_html_join("", "<li>{}: {} → {}</li>", rows))
        if obj.pgh_label == "insert" and obj.pgh_data:
            rows = ((_label(model, k), _shown(model, k, v)) for k, v in sorted(obj.pgh_data.items())
                    if v not in (None, "", [], {}) and k != "id")
            return format_html("<ul style='margin:0'>{}</ul>", format_html_join("", "<li>{}: {}</li>", rows))
        return "-"


def _model(label: str):
    return next((m for m in tracked_models() if m._meta.label == label), None)


def _field(model, column: str):
    if model is not None:
        for field in model._meta.concrete_fields:
            if column in (field.column, field.name):
                return field
    return None


def _label(model, column: str) -> str:
    field = _field(model, column)
    if field is not None:
        return gettext(capfirst(str(field.verbose_name)))  # the form labels' catalog: "Currency" -> "币种"
    return column


def _shown(model, column: str, value) -> str:
    """A recorded value as staff typed it: JSON gives decimals as floats (12.5), the field says 12.50."""
    if value in (None, ""):
        return "-"
    field = _field(model, column)
    if isinstance(field, models.DecimalField) and isinstance(value, int | float):
        return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-field.decimal_places)))
    return str(value)


# --- Django's and django-celery-beat's models, on the theme's classes (styled forms and widgets) -------------------

admin.site.unregister(User)
admin.site.unregister(Group)


DEFAULT_PERMISSIONS = {"add": _("Can add %(model)s"), "change": _("Can change %(model)s"),
                       "delete": _("Can delete %(model)s"), "view": _("Can view %(model)s")}


def permission_label(permission) -> str:
    """A permission in the staff's language: Django stores its names in English when it creates them ("Can add
    member"), so the label is made again from the model's translated names and the custom permissions' lazy names."""
    model = permission.content_type.model_class()
    if model is None:
        return str(permission)
    meta = model._meta
    action = permission.codename.removesuffix(f"_{meta.model_name}")
    if action in DEFAULT_PERMISSIONS and permission.codename == f"{action}_{meta.model_name}":
        name = DEFAULT_PERMISSIONS[action] % {"model": meta.verbose_name}
    else:
        name = dict(meta.permissions).get(permission.codename) or gettext(permission.name)  # the roles' own ones
    return f"{meta.app_config.verbose_name} | {meta.verbose_name} | {name}"


class TranslatedPermissionsMixin:
    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request=request, **kwargs)
        if db_field.name in ("permissions", "user_permissions") and field is not None:
            field.queryset = field.queryset.select_related("content_type")
            field.label_from_instance = permission_label
        return field


@admin.register(User)
class StaffUserAdmin(TranslatedPermissionsMixin, BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


@admin.register(Group)
class StaffGroupAdmin(TranslatedPermissionsMixin, BaseGroupAdmin, ModelAdmin):
    pass


class TaskSelectWidget(UnfoldAdminSelectWidget, beat_admin.TaskSelectWidget):
    pass


class PeriodicTaskForm(beat_admin.PeriodicTaskForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["task"].widget = UnfoldAdminTextInputWidget()
        self.fields["regtask"].widget = TaskSelectWidget()


for model in (PeriodicTask, IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule):
    admin.site.unregister(model)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin, ModelAdmin):
    form = PeriodicTaskForm


@admin.register(IntervalSchedule)
class IntervalScheduleAdmin(ModelAdmin):
    pass


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin, ModelAdmin):
    pass


@admin.register(SolarSchedule)
class SolarScheduleAdmin(ModelAdmin):
    pass


@admin.register(ClockedSchedule)
class ClockedScheduleAdmin(beat_admin.ClockedScheduleAdmin, ModelAdmin):
    pass
