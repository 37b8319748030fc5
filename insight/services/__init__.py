"""Insight's services: every write to insight's tables goes through one of these."""

from .charts import chart_snapshots_take
from .clv import clv_model_fit
from .facts import member_facts_record_order, member_facts_record_refund
from .history import HistoryRow, order_history_import
from .metrics import metrics_snapshot_for, metrics_snapshot_take
from .segments import segments_compute
from .surveys import AnswerInput, survey_answer_record
from .tags import member_tag_attach, member_tag_detach, tags_evaluate

__all__ = [
    "AnswerInput", "HistoryRow", "chart_snapshots_take", "clv_model_fit", "member_facts_record_order",
    "member_facts_record_refund",
    "member_tag_attach", "member_tag_detach", "metrics_snapshot_for", "metrics_snapshot_take", "order_history_import",
    "segments_compute", "survey_answer_record", "tags_evaluate",
]
