"""Insight's services: every write to insight's tables goes through one of these."""

from .facts import member_facts_record_order, member_facts_record_refund
from .surveys import AnswerInput, survey_answer_record

__all__ = ["AnswerInput", "member_facts_record_order", "member_facts_record_refund", "survey_answer_record"]
