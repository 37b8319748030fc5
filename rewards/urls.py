from django.urls import path

from .api import views

urlpatterns = [
    path("redemptions", views.RedemptionCollectionApi.as_view(), name="redemptions"),
    path("redemptions/<int:redemption_id>", views.RedemptionDetailApi.as_view(), name="redemption-detail"),
    path("redemptions/<int:redemption_id>/cancel", views.RedemptionCancelApi.as_view(), name="redemption-cancel"),
]
