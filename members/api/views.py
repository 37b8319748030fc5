from urllib.parse import urlencode

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotent_write
from core.models import Scope
from core.openapi import ERRORS, IDEMPOTENCY_HEADER
from core.permissions import requires_scope
from core.serializers import parse

from .. import services
from ..authentication import IsMember
from ..selectors import member_get
from .serializers import (
    MemberSerializer,
    MemberTokenSerializer,
    MemberTokensRevokedSerializer,
    MemberUpdateSerializer,
    PageLinkSerializer,
)
from .throttling import MemberTokenPerKeyThrottle, MemberTokenPerMemberThrottle


class MemberDetailApi(APIView):
    def get_permissions(self):
        scope = Scope.MEMBERS_READ if self.request.method in ("GET", "HEAD", "OPTIONS") else Scope.MEMBERS_WRITE
        return [requires_scope(scope)()]

    @extend_schema(operation_id="members_read", responses={200: MemberSerializer, **ERRORS})
    def get(self, request, external_id: str):
        return Response(MemberSerializer(member_get(external_id=external_id)).data)

    @extend_schema(operation_id="members_update", request=MemberUpdateSerializer,
                   responses={200: MemberSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def patch(self, request, external_id: str):
        data = parse(MemberUpdateSerializer, request)
        member = member_get(external_id=external_id)
        return idempotent_write(request, channel_id=request.user.channel_id, perform=lambda: (
            200, MemberSerializer(services.member_update(member=member, **data)).data))


class MemberTokenApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_TOKENS)]

    def get_throttles(self):
        return [MemberTokenPerMemberThrottle(), MemberTokenPerKeyThrottle()] if self.request.method == "POST" else []

    @extend_schema(operation_id="members_token_issue", request=None,
                   responses={201: MemberTokenSerializer, 429: ERRORS[400], **ERRORS})
    def post(self, request, external_id: str):
        member = member_get(external_id=external_id)
        token, expires_at = services.member_token_issue(member=member, channel_id=request.user.channel_id,
                                                        api_key_id=request.user.api_key_id)
        return Response(MemberTokenSerializer({"token": token, "expires_at": expires_at}).data, status=201)

    @extend_schema(operation_id="members_tokens_revoke", request=None,
                   responses={200: MemberTokensRevokedSerializer, **ERRORS})
    def delete(self, request, external_id: str):
        """End every live token of this member at once (idempotent: a second call revokes nothing more)."""
        member = member_get(external_id=external_id)
        return Response(MemberTokensRevokedSerializer({"revoked": services.member_tokens_revoke(member=member)}).data)


class PageLinkApi(APIView):
    """A signed link to the member's own page that works for days (for e-mails); DELETE revokes every link
    issued to the member so far. Reads only what the page shows; not an API credential."""

    permission_classes = [requires_scope(Scope.MEMBERS_TOKENS)]

    @extend_schema(operation_id="members_page_link_issue", request=None,
                   responses={201: PageLinkSerializer, **ERRORS})
    def post(self, request, external_id: str):
        member = member_get(external_id=external_id)
        token, expires_at = services.page_link_issue(member=member)
        url = request.build_absolute_uri(f"{reverse('member-account')}?{urlencode({'link': token})}")
        return Response(PageLinkSerializer({"url": url, "expires_at": expires_at}).data, status=201)

    @extend_schema(operation_id="members_page_links_revoke", request=None, responses={204: None, **ERRORS})
    def delete(self, request, external_id: str):
        member = member_get(external_id=external_id)
        services.page_links_revoke(member=member, actor=None, channel_id=request.user.channel_id)
        return Response(status=204)


class MeApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(operation_id="me_read", responses={200: MemberSerializer, **ERRORS})
    def get(self, request):
        return Response(MemberSerializer(request.user.member).data)
