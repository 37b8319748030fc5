"""Django-level handlers: JSON in the API's error shape under /api/, Django's own pages elsewhere (admin)."""

from django.db import connection
from django.http import JsonResponse
from django.views import defaults

from .errors import ErrorCode, error_body


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler400(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.MALFORMED, "Bad request."), status=400)
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.PERMISSION_DENIED, "Forbidden."), status=403)
    return defaults.permission_denied(request, exception)


def handler404(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.NOT_FOUND, "No such resource."), status=404)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.SERVER_ERROR, "Something went wrong on our side."), status=500)
    return defaults.server_error(request)


def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
