from django.contrib import admin, messages
from django.utils import timezone

from . import services
from .admin_mixins import AuditedAdminMixin
from .models import ApiKey, AuditLog, Channel


@admin.register(Channel)
class ChannelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "description", "created_at"]
    search_fields = ["name"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
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
        messages.warning(request, f"The new key, shown only this once: {raw}")

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            services.api_key_revoke(api_key=key, actor=request.user)
        self.message_user(request, f"Revoked at {timezone.now():%Y-%m-%d %H:%M}.")


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "channel", "action", "target_type", "target_id", "details"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "actor__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
