from django.conf import settings
from django.contrib import admin
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.api_root import ApiRootApi
from config.batch_api import OrderBatchApi
from config.bulk_api import BulkAdjustmentCreateApi, BulkAdjustmentDetailApi
from config.health import ReadinessView, liveness
from config.metrics import metrics
from config.privacy import MemberEraseApi, MemberExportApi
from config.views import member_account
from core.converters import KeyConverter
from core.views import health

from . import api

register_converter(KeyConverter, "key")

api_v1 = [
    path("", ApiRootApi.as_view(), name="api-root"),
    # Views that call several apps live here, above the apps, and are the only ones answering their paths.
    path("members", api.MemberRegisterApi.as_view(), name="members"),
    path("orders", api.OrderEarnApi.as_view(), name="orders"),
    path("orders/batch", OrderBatchApi.as_view(), name="orders-batch"),
    path("orders/<key:order_id>/refunds", api.OrderRefundApi.as_view(), name="order-refunds"),
    path("redemptions/<int:redemption_id>/cancel", api.RedemptionCancelApi.as_view(), name="redemption-cancel"),
    path("checkout/holds/<int:hold_id>/confirm", api.HoldConfirmApi.as_view(), name="hold-confirm"),
    path("checkout/holds/<int:hold_id>/release", api.HoldReleaseApi.as_view(), name="hold-release"),
    path("adjustments/bulk", BulkAdjustmentCreateApi.as_view(), name="adjustments-bulk"),
    path("adjustments/bulk/<int:bulk_id>", BulkAdjustmentDetailApi.as_view(), name="adjustments-bulk-detail"),
    path("members/<key:external_id>/export", MemberExportApi.as_view(), name="member-export"),
    path("members/<key:external_id>/erase", MemberEraseApi.as_view(), name="member-erase"),
    path("", include("members.urls")),
    path("", include("loyalty.urls")),
    path("", include("rewards.urls")),
    path("", include("referrals.urls")),
    path("", include("insight.urls")),
    path("", include("campaigns.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the back office's language switch
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"), name="redoc"),
    path("health", health, name="health"),
    path("health/live", liveness, name="health-live"),
    path("health/ready", ReadinessView.as_view(), name="health-ready"),
    path("metrics", metrics, name="metrics"),
    path("account/", member_account, name="member-account"),
]

if settings.BENCH_FLOOR_VIEW:  # `make bench` only: the floor the API is measured against (config/floor.py)
    from config.floor import FloorApi

    urlpatterns.append(path("bench/floor", FloorApi.as_view(), name="bench-floor"))

handler400 = "core.views.handler400"
handler403 = "core.views.handler403"
handler404 = "core.views.handler404"
handler500 = "core.views.handler500"
