"""Admin building blocks shared by the apps."""

from django.db import models
from django.shortcuts import redirect

from .fields import DecimalFormField, PointsFormField


class ReadOnlyMixin:
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
        models.DecimalField: {"form_class": DecimalFormField},
    }
    number_bounds: dict[str, dict] = {}
    """Narrower bounds for some fields, e.g. {"earn_points": {"min_value": 1, "max_value": 1000}}."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return super().formfield_for_dbfield(db_field, request, **{**self.number_bounds.get(db_field.name, {}),
                                                                   **kwargs})
