"""Admin building blocks shared by the apps."""

from django.shortcuts import redirect


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
