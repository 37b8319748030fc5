"""The error codes that campaigns' services and views answer with (values are the API contract)."""

from enum import StrEnum


class CampaignsErrorCode(StrEnum):
    EVENT_TYPE_UNKNOWN = "event_type_unknown"
    EVENT_ATTRIBUTES_INVALID = "event_attributes_invalid"
    EVENT_MEMBER_UNKNOWN = "event_member_unknown"
    EVENT_TOO_OLD = "event_too_old"
