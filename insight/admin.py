"""Staff's view of insight: surveys and the thresholds are edited here; facts, segments, stage changes, answers,
snapshots and CLV fits are read-only (the jobs and the flows write them). The charts live on the dashboard."""

from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin, ImportExportMixin, ImportMixin
from unfold.admin import ModelAdmin

from core.admin_mixins import BoundedNumbersAdminMixin, ReadOnlyMixin, SingletonAdminMixin
from core.transfer import ImportExportPermissionMixin, StreamedExportMixin
from loyalty.transfer import MemberImportResource

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
from .transfer import MemberExportResource, OrderHistoryImportResource, SegmentMembersResource

RULES = segments.__doc__.split("Rules (", 1)[1].split("\n", 1)[1]


class MemberSegmentFilter(admin.SimpleListFilter):
    """The member list's filter by segment, in the API's words (`?segment=stage:active`, `value:high`,
    `loyalty:advocate`, `tag:vip`), each with its count as of the nightly run."""

    title = _("segment")
    parameter_name = "segment"

    def lookups(self, request, model_admin):
        from .dashboard import LOYALTY_LABELS, STAGE_LABELS, VALUE_LABELS, segment_cube

        cube = segment_cube()
        counts: dict[str, int] = {}
        for (stage, value, loyalty), n in cube.items():
            for key in (f"stage:{stage}", f"value:{value}", f"loyalty:{loyalty}"):
                counts[key] = counts.get(key, 0) + n
        choices = [(f"{kind}:{code}", f"{prefix}: {label} ({counts.get(f'{kind}:{code}', 0)})")
                   for kind, prefix, labels in (("stage", _("Stage"), STAGE_LABELS), ("value", _("Value tier"),
                                                VALUE_LABELS), ("loyalty", _("Loyalty type"), LOYALTY_LABELS))
                   for code, label in labels.items()]
        tags = Tag.objects.annotate(n=Count("members")).order_by("code").values_list("code", "name", "n")
        return choices + [(f"tag:{code}", f"{_('Tag')}: {name} ({n})") for code, name, n in tags]

    def queryset(self, request, queryset):
        kind, _sep, code = (self.value() or "").partition(":")
        if kind == "tag":
            return queryset.filter(tags__tag__code=code)
        column = {"stage": "stage", "value": "value_tier", "loyalty": "loyalty_type"}.get(kind)
        return queryset.filter(**{f"segment__{column}": code}) if column else queryset


@admin.register(InsightSettings)
class InsightSettingsAdmin(BoundedNumbersAdminMixin, SingletonAdminMixin, ModelAdmin):
    readonly_fields = ["rules"]
    number_bounds = {"effect_months": {"min_value": 1, "max_value": 36}}

    @admin.display(description=_("How members are placed (nightly)"))
    def rules(self, obj) -> str:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", RULES)


@admin.register(Survey)
class SurveyAdmin(BoundedNumbersAdminMixin, ModelAdmin):
    list_display = ["code", "kind", "period", "reward_points", "active"]
    list_filter = ["kind", "active"]


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["member", "survey", "period", "score", "answered_at"]
    list_filter = ["survey", "period"]
    list_select_related = ["member", "survey"]
    search_fields = ["member__external_id"]
    date_hierarchy = "answered_at"


@admin.register(MemberFacts)
class MemberFactsAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["member", "orders_count", "refunded_orders", "spend", "average_order_value", "first_order_at",
                    "last_order_at", "categories_count", "last_nps", "last_cli"]
    list_select_related = ["member"]
    search_fields = ["member__external_id"]
    show_full_result_count = False


@admin.register(MemberSegment)
class MemberSegmentAdmin(ImportExportPermissionMixin, StreamedExportMixin, ExportMixin, ReadOnlyMixin, ModelAdmin):
    """Members by segment; managers export a segment's members (filter by stage, value tier or loyalty type, then
    Export)."""

    export_permission = "insight.export_membersegment"
    export_resources = [SegmentMembersResource]
    streamed_resource = SegmentMembersResource
    list_display = ["member", "stage", "stage_since", "recency", "frequency", "monetary", "value_tier", "loyalty_type",
                    "computed_on"]
    list_filter = ["stage", "value_tier", "loyalty_type"]
    list_select_related = ["member"]
    search_fields = ["member__external_id"]
    show_full_result_count = False
    readonly_fields = ["rules"]

    @admin.display(description=_("How members are placed"))
    def rules(self, obj) -> str:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", RULES)


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["member", "from_stage", "to_stage", "changed_at"]
    list_filter = ["to_stage", "from_stage"]
    list_select_related = ["member"]
    search_fields = ["member__external_id"]
    date_hierarchy = "changed_at"
    show_full_result_count = False


@admin.register(MetricSnapshot)
class MetricSnapshotAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["period", "start", "end", "store", "segment", "nps", "crr", "average_order_value", "computed_at"]
    list_filter = ["period", "store", "segment"]

    def _value(self, obj, key):
        return obj.values.get(key)

    @admin.display(description=_("NPS"))
    def nps(self, obj):
        return self._value(obj, "nps")

    @admin.display(description=_("CRR %"))
    def crr(self, obj):
        return self._value(obj, "crr")

    @admin.display(description=_("Average order value"))
    def average_order_value(self, obj):
        return self._value(obj, "average_order_value")


@admin.register(ClvModel)
class ClvModelAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["fitted_at", "customers", "r", "alpha", "a", "b", "p", "q", "gamma"]


@admin.register(Tag)
class TagAdmin(ModelAdmin):
    list_display = ["code", "name", "rule_field", "rule_op", "rule_value"]


@admin.register(MemberTag)
class MemberTagAdmin(ModelAdmin):
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
class HistoricalOrderAdmin(ImportExportPermissionMixin, ImportMixin, ReadOnlyMixin, ModelAdmin):
    """The shop's order history from before the program; managers import it from a file (with a preview)."""

    import_permission = "insight.import_historicalorder"
    import_resources = [OrderHistoryImportResource]
    list_display = ["order_id", "member", "amount", "occurred_at", "imported_at"]
    list_select_related = ["member"]
    search_fields = ["order_id", "member__external_id"]
    show_full_result_count = False


class MemberImportExportMixin(ImportExportPermissionMixin, StreamedExportMixin, ImportExportMixin):
    """For the members list (its admin class lives in config): managers import members with their opening balances
    (loyalty's resource, through the services) and export members with balance, tier and segments."""

    import_permission = "members.import_member"
    export_permission = "members.export_member"
    import_resources = [MemberImportResource]
    export_resources = [MemberExportResource]
    streamed_resource = MemberExportResource  # streamed: a program's million members are never in memory
