"""A member's personal data (GDPR): the export of everything we hold on them, and erasure by pseudonymisation.

Export composes each app's own `*_data_export` selector with the audit entries about the member; erasure is one
flow (config.flows.member_erase_everywhere). Both through the API (scopes `members:export`, `members:erase`, not
granted to a shop key unless asked for) and on the member's page in the admin (managers: the permissions
`members.export_member_data`, `members.erase_member`). Every export and erasure is in the audit log.
"""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.admin_mixins import ThemedFormMixin
from core.idempotency import idempotent_write
from core.models import AuditLog, Scope
from core.openapi import ERRORS, IDEMPOTENCY_HEADER
from core.permissions import requires_scope
from core.privacy import export_rows
from core.serializers import StrictSerializer, parse
from core.services import audit_record
from loyalty.selectors import ledger_data_export
from members.models import Member
from members.selectors import member_data_export, member_get
from referrals.selectors import referrals_data_export
from rewards.selectors import rewards_data_export

from . import flows

EXPORT_PERMISSION, ERASE_PERMISSION = "members.export_member_data", "members.erase_member"
FORMAT = "loyalty-member-export/1"


def member_export(*, member: Member) -> dict:
    """Everything we hold on the member, as one JSON document. Reads only (the caller audits the export)."""
    about = Q(target_type="member", target_id=str(member.pk)) | Q(details__member=member.external_id)
    return {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(),
        "member": member_data_export(member=member),
        "ledger": ledger_data_export(member=member),
        "rewards": rewards_data_export(member=member),
        "referrals": referrals_data_export(member=member),
        "audit": export_rows(AuditLog.objects.filter(about), ["action", "target_type", "target_id", "details",
                                                              "actor__username", "channel__name", "created_at"]),
    }


def _exported(member: Member, *, actor, channel_id) -> dict:
    with transaction.atomic():
        document = member_export(member=member)
        audit_record(action="member.export", target_type="member", target_id=member.pk, actor=actor,
                     channel_id=channel_id)
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


# --- API ------------------------------------------------------------------------------------------------------


class MemberEraseSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, help_text="Why (the member's request, a ticket number).")


class MemberErasedSerializer(serializers.Serializer):
    external_id = serializers.CharField(help_text="The pseudonym the member's row keeps from now on.")
    status = serializers.CharField()
    erased_at = serializers.DateTimeField()


class MemberExportApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_EXPORT)]

    @extend_schema(operation_id="members_export", responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request, external_id: str):
        member = member_get(external_id=external_id)
        return Response(_exported(member, actor=None, channel_id=request.user.channel_id))


class MemberEraseApi(APIView):
    permission_classes = [requires_scope(Scope.MEMBERS_ERASE)]

    @extend_schema(operation_id="members_erase", request=MemberEraseSerializer,
                   responses={200: MemberErasedSerializer, **ERRORS}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request, external_id: str):
        data = parse(MemberEraseSerializer, request)

        def perform():  # the member is looked up inside: a replay answers the first answer, though the id is gone
            erased = flows.member_erase_everywhere(member=member_get(external_id=external_id), reason=data["reason"], actor=None,
                                                   channel_id=request.user.channel_id)
            return 200, MemberErasedSerializer({"external_id": erased.external_id, "status": erased.status,
                                                "erased_at": erased.updated_at}).data

        return idempotent_write(request, channel_id=request.user.channel_id, perform=perform)


# --- Admin: buttons on the member's page ------------------------------------------------------------------------


class EraseForm(ThemedFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label=_("I understand: the name, contacts and birth date are replaced for good, "
                                         "and the membership is closed."))

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why."))
        return reason


class PrivacyAdminMixin:
    """For the member admin: "Export data" (a JSON download) and "Erase personal data" (with a reason)."""

    def member_actions(self, request, member: Member) -> list[tuple[str, str]]:
        actions = super().member_actions(request, member)
        if request.user.has_perm(EXPORT_PERMISSION):
            actions.append((gettext("Export data"), reverse("admin:members_member_export", args=[member.pk])))
        if request.user.has_perm(ERASE_PERMISSION) and member.status != Member.Status.CLOSED:
            actions.append((gettext("Erase personal data"), reverse("admin:members_member_erase", args=[member.pk])))
        return actions

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:member_id>/export/", view(self.export_view), name="members_member_export"),
            path("<int:member_id>/erase/", view(self.erase_view), name="members_member_erase"),
        ] + super().get_urls()

    def export_view(self, request, member_id: int):
        if not request.user.has_perm(EXPORT_PERMISSION):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        document = _exported(member, actor=request.user, channel_id=None)
        response = HttpResponse(json.dumps(document, indent=2, ensure_ascii=False),
                                content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="member-{member.pk}-export.json"'
        return response

    def erase_view(self, request, member_id: int):
        if not request.user.has_perm(ERASE_PERMISSION):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        form = EraseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            flows.member_erase_everywhere(member=member, reason=form.cleaned_data["reason"], actor=request.user,
                                          channel_id=None)
            messages.success(request, gettext("The member's personal data was erased; the points history stays."))
            return redirect(reverse("admin:members_member_change", args=[member.pk]))
        return self._page(request, member, gettext("Erase personal data: %(member)s") % {"member": member}, form,
                          intro=gettext("Name, e-mail, phone, birth date, card number, the texts of messages and "
                                        "the device and address of a referral are replaced or removed; the points "
                                        "history, orders and the audit log stay. This cannot be undone."),
                          submit_label=gettext("Erase"))
