from drf_spectacular.utils import OpenApiParameter

from .serializers import ErrorSerializer

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=True,
    description="Unique per write and channel; a replay returns the first answer, another body under it is a 409.",
)
ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404, 409, 422)}
