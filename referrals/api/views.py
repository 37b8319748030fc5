from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import BusinessRuleError, NotFound
from core.idempotency import idempotent_write
from core.models import Scope
from core.openapi import ERRORS, IDEMPOTENCY_HEADER
from core.permissions import requires_scope
from members.authentication import IsMember
from members.models import Member
from members.selectors import member_get

from .. import services
from ..exceptions import ReferralsErrorCode
from ..selectors import referral_overview
from .serializers import CodeLookupSerializer, ReferralAttachSerializer, ReferralOverviewSerializer, ReferralSerializer
from .throttling import ReferralCodeChannelThrottle, ReferralCodeThrottle

THROTTLED = {429: ERRORS[400]}


class MemberReferralsApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_READ)]

    @extend_schema(operation_id="members_referrals", responses={200: ReferralOverviewSerializer, **ERRORS})
    def get(self, request, external_id: str):
        return Response(ReferralOverviewSerializer(referral_overview(member=member_get(external_id=external_id))).data)


class MyReferralsApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(operation_id="me_referrals", responses={200: ReferralOverviewSerializer, **ERRORS})
    def get(self, request):
        body = referral_overview(member=request.user.member)
        for item in body["referrals"]:
            item.pop("member")  # a member sees their friends' first names, not the shop's customer ids
        return Response(ReferralOverviewSerializer(body).data)


class ReferralAttachApi(APIView):
    """Attach a referral code to a member shortly after sign-up, once."""

    permission_classes = [requires_scope(Scope.MEMBERS_WRITE)]
    throttle_classes = [ReferralCodeThrottle, ReferralCodeChannelThrottle]

    @extend_schema(operation_id="members_referral_attach", request=ReferralAttachSerializer,
                   responses={201: ReferralSerializer, **ERRORS, **THROTTLED}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, external_id: str):
        serializer = ReferralAttachSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = member_get(external_id=external_id)

        def perform():
            referral = services.referral_attach(member=member, code=data["code"], device_id=data["device_id"],
                                                ip=data["ip"])
            return 201, ReferralSerializer(referral).data

        return idempotent_write(request, channel_id=request.user.channel_id, perform=perform)


class ReferralCodeApi(APIView):
    """Is this a referral code? Rate-limited, so codes cannot be enumerated."""

    permission_classes = [requires_scope(Scope.MEMBERS_READ)]
    throttle_classes = [ReferralCodeThrottle, ReferralCodeChannelThrottle]

    @extend_schema(operation_id="referral_codes_read", responses={200: CodeLookupSerializer, **ERRORS, **THROTTLED},
                   parameters=[OpenApiParameter("ip", str, description="The end user's address, for the rate "
                                                "limit (else the connection's).")])
    def get(self, request, code: str):
        try:
            found = services.referral_code_find(code=code)
        except BusinessRuleError as exc:
            raise NotFound("No such referral code.", code=ReferralsErrorCode.REFERRAL_CODE_NOT_FOUND) from exc
        program = services.program_active()
        return Response(CodeLookupSerializer({
            "code": found.code, "valid": found.member.status != Member.Status.CLOSED and program is not None,
            "welcome_points": program.welcome_points if program else 0}).data)
