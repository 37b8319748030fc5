"""The error codes that the ledger's services answer with (values are the API contract: shops code against them)."""

from enum import StrEnum


class LoyaltyErrorCode(StrEnum):
    ORDER_NOT_FOUND = "order_not_found"
    DUPLICATE_ORDER = "duplicate_order"
    INSUFFICIENT_POINTS = "insufficient_points"
    BALANCE_LIMIT_EXCEEDED = "balance_limit_exceeded"
    REFUND_EXCEEDS_ORDER = "refund_exceeds_order"
    ADJUSTMENT_LIMIT_EXCEEDED = "adjustment_limit_exceeded"
    BULK_ADJUSTMENT_EMPTY = "bulk_adjustment_empty"
    BULK_ADJUSTMENT_NOT_FOUND = "bulk_adjustment_not_found"
    # Raised by the ledger when a spend was already given back; rewards uses it for its redemptions too.
    REDEMPTION_NOT_CANCELLABLE = "redemption_not_cancellable"
