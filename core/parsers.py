import codecs
import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings

from .errors import ApplicationError, ErrorCode


class RequestTooLarge(ApplicationError):
    status_code = 413
    default_code = ErrorCode.REQUEST_TOO_LARGE


class SafeJSONParser(JSONParser):
    """JSON with limits: a body over API_MAX_BODY_BYTES is refused (413) before more than that is read, whether or
    not it declares its length; nesting deeper than Python's recursion limit is a 400 instead of a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        too_large = RequestTooLarge(f"The request body is larger than {limit} bytes.",
                                    extra={"limit_bytes": limit})
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise too_large
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
            constant = json.decoder.JSONDecoder().parse_constant if not api_settings.STRICT_JSON else self._refuse
            return json.loads(text, parse_constant=constant)
        except RecursionError as exc:
            raise ParseError("JSON nested too deeply.") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc

    @staticmethod
    def _refuse(value):
        raise ValueError(f"{value} is not valid JSON")
