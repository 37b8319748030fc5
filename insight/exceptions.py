"""The error codes that insight's services and views answer with (values are the API contract)."""

from enum import StrEnum


class InsightErrorCode(StrEnum):
    SURVEY_NOT_FOUND = "survey_not_found"
