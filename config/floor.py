"""The benchmark's floor: what any API request costs before it does anything of its own.

`GET /bench/floor` answers `{"ok": 1}` after a `SELECT 1`, through the same middleware, the same API key
authentication and the same renderer as every endpoint of the API, so `make bench` can read the earn and the
balance as a share of what Django itself costs on the machine. It is mounted only when the setting
`BENCH_FLOOR_VIEW` is on (the benchmark's environment), never among the public URLs.
"""

from django.db import connection
from rest_framework.response import Response
from rest_framework.views import APIView


class FloorApi(APIView):
    """A `SELECT 1` through the whole stack: API key, middleware, DRF, JSON."""

    schema = None  # not part of the API

    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            (one,) = cursor.fetchone()
        return Response({"ok": one})
