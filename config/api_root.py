"""`GET /api/v1/`: what the API has, for a person who opens it in a browser or with curl. No key needed; it
names areas and where to read about them, never data."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

# area: (its paths under /api/v1/, what it is for)
AREAS = {
    "members": (["members", "members/{external_id}", "members/{external_id}/balance",
                 "members/{external_id}/transactions", "members/{external_id}/tier", "members/{external_id}/tokens"],
                "register, read and update members; their balance, statement, tier; member tokens"),
    "orders": (["orders", "orders/{order_id}", "orders/{order_id}/refunds"], "earn on a purchase, refunds"),
    "redemptions": (["redemptions", "redemptions/{id}", "redemptions/{id}/cancel"], "spend points, give them back"),
    "adjustments": (["adjustments"], "manual credits and debits"),
    "rewards": (["rewards", "rewards/{code}"], "the rewards catalog"),
    "vouchers": (["vouchers/{code}", "vouchers/{code}/redeem"], "vouchers of rewards"),
    "checkout": (["quotes", "checkout/holds", "checkout/holds/{id}/confirm", "checkout/holds/{id}/release"],
                 "points paying at checkout"),
    "causes": (["causes"], "causes members can give points to"),
    "memberships": (["tiers", "plans"], "membership tiers and paid plans"),
    "referrals": (["referral-codes/{code}", "members/{external_id}/referral", "members/{external_id}/referrals"],
                  "referral codes and referrals"),
    "me": (["me", "me/balance", "me/transactions", "me/tier", "me/referrals"],
           "a member's own data, with a member token"),
}


class ApiRootApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        base = request.build_absolute_uri()
        return Response({
            "version": "v1",
            "authentication": "Authorization: Api-Key <key> (the shop); Authorization: Bearer <token> (a member's app)",
            "docs": request.build_absolute_uri(reverse("docs")),
            "schema": request.build_absolute_uri(reverse("schema")),
            "areas": {area: {"about": about, "urls": [f"{base}{path}" for path in paths]}
                      for area, (paths, about) in AREAS.items()},
        })
