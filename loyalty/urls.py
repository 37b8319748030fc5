from django.urls import path

from .api import views

urlpatterns = [
    path("orders/<key:order_id>", views.OrderDetailApi.as_view(), name="order-detail"),
    path("adjustments", views.AdjustmentApi.as_view(), name="adjustments"),
    path("members/<key:external_id>/balance", views.BalanceApi.as_view(), name="member-balance"),
    path("members/<key:external_id>/transactions", views.StatementApi.as_view(), name="member-transactions"),
    path("me/balance", views.MyBalanceApi.as_view(), name="me-balance"),
    path("me/transactions", views.MyStatementApi.as_view(), name="me-transactions"),
]
