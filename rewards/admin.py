from django.contrib import admin

from .models import Redemption


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    list_display = ["id", "member", "points", "order_id", "status", "channel", "created_at", "cancelled_at"]
    list_filter = ["status", "channel"]
    search_fields = ["member__external_id", "order_id"]
    list_select_related = ["member", "channel"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
