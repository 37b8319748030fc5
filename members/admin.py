from django.contrib import admin

from .models import Member


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    """Members as staff look them up. The loyalty app extends this with balance, statement and adjustments."""

    list_display = ["external_id", "name", "email", "phone", "status", "joined_at"]
    list_filter = ["status", "marketing_consent"]
    search_fields = ["external_id", "email", "phone", "card_number", "name"]
    readonly_fields = ["joined_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["external_id", "name", "status"]}),
        ("Contact", {"fields": ["email", "phone", "card_number", "timezone", "marketing_consent"]}),
        ("Dates", {"fields": ["birth_date", "joined_at", "updated_at"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        # Staff type phone numbers as they are printed; match the normalised form too.
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        digits = "".join(ch for ch in search_term if ch.isdigit()).lstrip("0")  # national trunk prefix
        if len(digits) >= 6:
            queryset |= self.model.objects.filter(phone__endswith=digits)
        return queryset, may_have_duplicates
