from django.urls import path

from .api import views

urlpatterns = [
    path("redemptions", views.RedemptionCollectionApi.as_view(), name="redemptions"),
    path("redemptions/<int:redemption_id>", views.RedemptionDetailApi.as_view(), name="redemption-detail"),
    path("rewards", views.RewardListApi.as_view(), name="rewards"),
    path("rewards/<key:code>", views.RewardDetailApi.as_view(), name="reward-detail"),
    path("causes", views.CauseListApi.as_view(), name="causes"),
    path("quotes", views.QuoteApi.as_view(), name="quotes"),
    path("checkout/holds", views.HoldCollectionApi.as_view(), name="holds"),
    path("checkout/holds/<int:hold_id>", views.HoldDetailApi.as_view(), name="hold-detail"),
    path("vouchers/<key:code>", views.VoucherDetailApi.as_view(), name="voucher-detail"),
    path("vouchers/<key:code>/redeem", views.VoucherRedeemApi.as_view(), name="voucher-redeem"),
    path("members/<key:external_id>/vouchers", views.MemberVoucherListApi.as_view(), name="member-vouchers"),
    path("members/<key:external_id>/redemptions", views.MemberRedemptionListApi.as_view(), name="member-redemptions"),
    path("me/vouchers", views.MyVoucherListApi.as_view(), name="me-vouchers"),
    path("me/redemptions", views.MyRedemptionListApi.as_view(), name="me-redemptions"),
]
