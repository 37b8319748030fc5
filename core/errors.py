"""The one error shape of the API: {"error": {"code", "message", "fields"}}.

Services raise ApplicationError (or a subclass) with a machine-readable code; the DRF exception handler
below renders it, and renders DRF's and Django's own exceptions in the same shape.
"""

from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response


class ErrorCode(StrEnum):
    INVALID = "invalid"
    MALFORMED = "malformed_request"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    CONFLICT = "conflict"
    IDEMPOTENCY_KEY_MISSING = "idempotency_key_missing"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_TOO_LONG = "idempotency_key_too_long"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    REQUEST_TOO_LARGE = "request_too_large"
    CURRENCY_NOT_SUPPORTED = "currency_not_supported"
    SERVER_ERROR = "server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"


class ApplicationError(Exception):
    """A refusal the API can explain. Subclasses fix the HTTP status."""

    status_code = 422
    default_code = ErrorCode.INVALID
    retry_after: int | None = None  # seconds, sent as Retry-After when set

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None,
                 extra: dict | None = None, status_code: int | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = str(code or self.default_code)
        self.fields = fields or {}
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code
        if retry_after is not None:
            self.retry_after = retry_after


class BadRequest(ApplicationError):
    status_code = 400
    default_code = ErrorCode.INVALID


class NotFound(ApplicationError):
    status_code = 404
    default_code = ErrorCode.NOT_FOUND


class Conflict(ApplicationError):
    status_code = 409
    default_code = ErrorCode.CONFLICT


class ServiceUnavailable(ApplicationError):
    """Something the request needs is down for a moment (the database restarting): retry after Retry-After."""

    status_code = 503
    default_code = ErrorCode.SERVICE_UNAVAILABLE
    retry_after = 1


class BusinessRuleError(ApplicationError):
    """A business rule said no (422)."""

    status_code = 422


def error_body(code: str, message: str, fields: dict | None = None, extra: dict | None = None) -> dict:
    body: dict[str, Any] = {"code": str(code), "message": message, "fields": fields or {}}
    if extra:
        body.update(extra)
    return {"error": body}


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
        return "Invalid input."
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else "Invalid input."
    return str(detail)


def _plain(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(k): _plain(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_plain(v) for v in detail]
    return str(detail)


_DRF_CODES = {
    drf_exceptions.ParseError: ErrorCode.MALFORMED,
    drf_exceptions.NotAuthenticated: ErrorCode.NOT_AUTHENTICATED,
    drf_exceptions.AuthenticationFailed: ErrorCode.AUTHENTICATION_FAILED,
    drf_exceptions.PermissionDenied: ErrorCode.PERMISSION_DENIED,
    drf_exceptions.NotFound: ErrorCode.NOT_FOUND,
    drf_exceptions.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    drf_exceptions.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    drf_exceptions.NotAcceptable: ErrorCode.INVALID,
    drf_exceptions.Throttled: ErrorCode.THROTTLED,
}


# How long a client should wait before retrying a request the database could not serve.
DATABASE_RETRY_AFTER_SECONDS = 1


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is unreachable or restarting (a connection lost mid-request, refused, or closed), or a lock
        # or statement timed out. The request's transaction did not commit, or its answer was lost after COMMIT:
        # either way a retry with the same Idempotency-Key gets the one true answer. Django drops a connection
        # that failed, so the next request opens a fresh one: no restart of the app is needed.
        exc = ServiceUnavailable("The database is not available right now; retry with the same Idempotency-Key.",
                                 retry_after=DATABASE_RETRY_AFTER_SECONDS)
    if isinstance(exc, ApplicationError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
        return Response(error_body(exc.code, exc.message, exc.fields, exc.extra), status=exc.status_code,
                        headers=headers)
    if isinstance(exc, DataError):
        # A value the database cannot hold (out of range, NUL in text) that validation let through: bad input,
        # and the write's transaction has rolled back.
        return Response(error_body(ErrorCode.INVALID, "A value in the request cannot be stored."), status=400)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, drf_exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = _plain(detail)
        return Response(error_body(ErrorCode.INVALID, _first_message(detail), fields), status=400)
    if isinstance(exc, drf_exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), ErrorCode.INVALID)
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        return Response(error_body(code, _first_message(exc.detail)), status=exc.status_code, headers=headers)
    return None  # unexpected: let Django log it; handler500 answers in the same shape
