"""Staff's view of insight: surveys and the thresholds are edited here; facts, segments, stage changes, answers,
snapshots and CLV fits are read-only (the jobs and the flows write them). The charts live on the dashboard."""

from django.contrib import admin
from django.utils.html import format_html

from core.admin_mixins import BoundedNumbersAdminMixin, ReadOnlyMixin, SingletonAdminMixin

from .models import (
    ClvModel,
    HistoricalOrder,
    InsightSettings,
    MemberFacts,
    MemberSegment,
    MemberTag,
    MetricSnapshot,
    StageChange,
    Survey,
    SurveyAnswer,
    Tag,
)
from .services import member_tag_attach, member_tag_detach, segments

RULES = segments.__doc__.split("Rules (", 1)[1].split("\n", 1)[1]


@admin.register(InsightSettings)
class InsightSettingsAdmin(BoundedNumbersAdminMixin, SingletonAdminMixin, admin.ModelAdmin):
    readonly_fields = ["rules"]
    number_bounds = {"effect_months": {"min_value": 1, "max_value": 36}}

    @admin.display(description="How members are placed (nightly)")
    def rules(self, obj) -> str:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", RULES)


@admin.register(Survey)
class SurveyAdmin(BoundedNumbersAdminMixin, admin.ModelAdmin):
    list_display = ["code", "kind", "period", "reward_points", "active"]
    list_filter = ["kind", "active"]


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["member", "survey", "period", "score", "answered_at"]
    list_filter = ["survey", "period"]
    list_select_related = ["member", "survey"]
    search_fields = ["member__external_id"]
    date_hierarchy = "answered_at"


@admin.register(MemberFacts)
class MemberFactsAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["member", "orders_count", "refunded_orders", "spend", "average_order_value", "first_order_at",
                    "last_order_at", "categories_count", "last_nps", "last_cli"]
    list_select_related = ["member"]
    search_fields = ["member__external_id"]
    show_full_result_count = False


@admin.register(MemberSegment)
class MemberSegmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["member", "stage", "stage_since", "recency", "frequency", "monetary", "value_tier", "loyalty_type",
                    "computed_on"]
    list_filter = ["stage", "value_tier", "loyalty_type"]
    list_select_related = ["member"]
    search_fields = ["member__external_id"]
    show_full_result_count = False
    readonly_fields = ["rules"]

    @admin.display(description="How members are placed")
    def rules(self, obj) -> str:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", RULES)


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["member", "from_stage", "to_stage", "changed_at"]
    list_filter = ["to_stage", "from_stage"]
    list_select_related = ["member"]
    search_fields = ["member__external_id"]
    date_hierarchy = "changed_at"
    show_full_result_count = False


@admin.register(MetricSnapshot)
class MetricSnapshotAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["period", "start", "end", "store", "segment", "nps", "crr", "average_order_value", "computed_at"]
    list_filter = ["period", "store", "segment"]

    def _value(self, obj, key):
        return obj.values.get(key)

    @admin.display(description="NPS")
    def nps(self, obj):
        return self._value(obj, "nps")

    @admin.display(description="CRR %")
    def crr(self, obj):
        return self._value(obj, "crr")

    @admin.display(description="Average order value")
    def average_order_value(self, obj):
        return self._value(obj, "average_order_value")


@admin.register(ClvModel)
class ClvModelAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["fitted_at", "customers", "r", "alpha", "a", "b", "p", "q", "gamma"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "rule_field", "rule_op", "rule_value"]


@admin.register(MemberTag)
class MemberTagAdmin(admin.ModelAdmin):
    """Staff attach manual tags here (and detach any); rule tags come and go with the nightly run."""

    list_display = ["member", "tag", "source", "added_at"]
    list_filter = ["tag", "source"]
    list_select_related = ["member", "tag"]
    search_fields = ["member__external_id"]
    raw_id_fields = ["member"]
    fields = ["member", "tag"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        obj.pk = member_tag_attach(member=obj.member, tag=obj.tag).pk

    def delete_model(self, request, obj) -> None:
        member_tag_detach(member=obj.member, tag=obj.tag)


@admin.register(HistoricalOrder)
class HistoricalOrderAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["order_id", "member", "amount", "occurred_at", "imported_at"]
    list_select_related = ["member"]
    search_fields = ["order_id", "member__external_id"]
    show_full_result_count = False
