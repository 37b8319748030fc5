"""Listings: cursor pagination whose query parameters are checked, not guessed at.

DRF's CursorPagination answers a cursor it cannot read with a 404 and quietly falls back to the default page size
for `limit=-5` or `limit=abc`; a shop then pages through the wrong thing without knowing. Here each is a 400 in
the API's error shape, naming the parameter, and so is a filter value the listing does not know.
"""

import re
from base64 import b64decode
from urllib import parse

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from .errors import BadRequest

_PAGE_SIZE = re.compile(r"[0-9]{1,9}", re.ASCII)


def _refuse(name: str, message: str):
    return BadRequest(f"{name}: {message}", fields={name: [message]})


class NewestFirstCursorPagination(CursorPagination):
    """Stable under inserts: a cursor on the id, newest first."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.getlist(self.page_size_query_param)
        if not raw:
            return self.page_size
        message = f"A whole number from 1 to {self.max_page_size}."
        if len(raw) > 1 or not _PAGE_SIZE.fullmatch(raw[0]) or not 1 <= int(raw[0]) <= self.max_page_size:
            raise _refuse(self.page_size_query_param, message)
        return int(raw[0])

    def decode_cursor(self, request):
        if len(request.query_params.getlist(self.cursor_query_param)) > 1:
            raise _refuse(self.cursor_query_param, "Give one cursor.")
        refusal = _refuse(self.cursor_query_param, "Not a cursor of this listing; follow `next` or `previous`.")
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded:  # DRF reads any text as some cursor (base64 skips what it cannot decode); ours are never empty
            try:
                tokens = parse.parse_qs(b64decode(encoded.encode("ascii"), validate=True).decode("ascii"),
                                        keep_blank_values=True, strict_parsing=True)
            except ValueError as exc:
                raise refusal from exc
            if not tokens or set(tokens) - {"o", "r", "p"}:
                raise refusal
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise refusal from exc

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": "Where the page starts: the `next` or `previous` link of the page before.",
             "schema": {"type": "string"}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Page size, 1 to {self.max_page_size} ({self.page_size} unless given).",
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size}},
        ]


def allowed_values(request, name: str, allowed: list[str]) -> list[str] | None:
    """The values of the repeatable filter `name`, all of them among `allowed` (None when not given); an unknown one
    is a 400, not silently dropped (a typo would otherwise list everything)."""
    values = request.query_params.getlist(name)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise _refuse(name, f"Unknown value {unknown[0]!r}; one of: {', '.join(allowed)}.")
    return values or None
