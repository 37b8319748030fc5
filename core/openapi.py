from drf_spectacular.utils import OpenApiParameter

from .idempotency import MAX_KEY_LENGTH
from .serializers import ErrorSerializer

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                        "pattern": r"^\S(.*\S)?$"},  # spaces around a key are not part of it
    OpenApiParameter.HEADER, required=True,
    description=f"Unique per write and channel, at most {MAX_KEY_LENGTH} characters; a replay returns the first "
                "answer, another body under it is a 409.",
)
ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404, 409, 422)}


def request_bodies_closed(result: dict) -> None:
    """Every request body refuses fields it does not know (core.serializers.StrictSerializer): say so, so that a
    client generated from the schema cannot send a typo."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
