"""The counter: what a clerk does for a member standing at the till, on the member's page.

Records a walk-in purchase (config.flows.order_place), checks and uses a voucher, cancels a redemption
(config.flows.redemption_cancel) and voids a voucher with a reason (the points come back through the same flow
when the whole redemption is voided). The flows take the member's ledger lock; this module only parses, calls
one flow or service, and renders. Each button is shown only to those who may use it.
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import ThemedFormMixin
from core.errors import ApplicationError
from core.fields import DecimalFormField
from core.idempotency import derived_key
from core.services import audit_record
from insight.admin import MemberImportExportMixin, MemberSegmentFilter
from loyalty.models import ProgramSettings
from loyalty.services.ledger import channel_id
from members.models import Member
from referrals.admin import ReferralsMemberAdmin
from rewards import services as rewards
from rewards.models import Redemption, Voucher

from . import flows
from .privacy import PrivacyAdminMixin

PURCHASE, USE_VOUCHER = "loyalty.add_order", "rewards.change_voucher"
CANCEL, VOID = "rewards.change_redemption", "rewards.void_voucher"


class PurchaseForm(ThemedFormMixin, forms.Form):
    amount = DecimalFormField(label=_("Amount"), min_value=0, max_digits=12, decimal_places=2)
    order_id = forms.CharField(label=_("Receipt or order number"), max_length=100)
    store = forms.CharField(label=_("Store"), max_length=100, required=False)
    key = forms.CharField(widget=forms.HiddenInput)


class VoucherForm(ThemedFormMixin, forms.Form):
    code = forms.CharField(label=_("Voucher code"), max_length=40)
    order_id = forms.CharField(label=_("Receipt or order number"), max_length=100, required=False)
    store = forms.CharField(label=_("Store"), max_length=100, required=False)


class ReasonForm(ThemedFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    key = forms.CharField(widget=forms.HiddenInput)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why."))
        return reason


def _table(heads: list, rows: list[tuple]) -> str:
    return format_html("<div style='overflow-x:auto'><table class='office-table'><tr>{}</tr>{}</table></div>",
                       format_html_join("", "<th>{}</th>", ((h,) for h in heads)),
                       format_html_join("", "<tr>" + "<td>{}</td>" * len(heads) + "</tr>", rows))


class CounterMemberAdmin(MemberImportExportMixin, PrivacyAdminMixin, ReferralsMemberAdmin):
    readonly_fields = [*ReferralsMemberAdmin.readonly_fields, "vouchers", "redemptions"]
    list_filter = [*ReferralsMemberAdmin.list_filter, MemberSegmentFilter]
    # What the clerk needs at the till first: identity, tier, points, vouchers; contact details and dates below.
    _identity, _contact, _dates, _tier, _points, _referrals = ReferralsMemberAdmin.fieldsets
    fieldsets = [_identity, _tier, _points, (_("Vouchers and redemptions"), {"fields": ["vouchers", "redemptions"]}),
                 _referrals, _contact, _dates]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # a new member has no points, vouchers or referrals to show yet
            panels = {"tier", "balance", "statement", "vouchers", "redemptions", "referral_code", "referrals"}
            fieldsets = [f for f in fieldsets if not set(f[1]["fields"]) <= panels]
        return fieldsets

    def get_object(self, request, object_id, from_field=None):
        member = super().get_object(request, object_id, from_field)
        if member is not None:
            member.seen_by = request.user  # the panels' buttons depend on who looks (see _may)
        return member

    @staticmethod
    def _may(member: Member, perm: str) -> bool:
        user = getattr(member, "seen_by", None)
        return bool(user and user.has_perm(perm))

    def member_actions(self, request, member: Member) -> list[tuple[str, str]]:
        actions = super().member_actions(request, member)
        counter = []
        if request.user.has_perm(PURCHASE):
            counter.append((gettext("Record a purchase"), reverse("admin:members_member_purchase", args=[member.pk])))
        if request.user.has_perm(USE_VOUCHER):
            counter.append((gettext("Use a voucher"), reverse("admin:members_member_voucher", args=[member.pk])))
        return counter + actions

    @admin.display(description=_("Vouchers (latest 20)"))
    def vouchers(self, obj: Member) -> str:
        if not obj.pk:
            return "-"
        rows = Voucher.objects.filter(member=obj).select_related("reward").order_by("-id")[:20]
        may_void = self._may(obj, VOID)
        return _table(
            [gettext("Code"), gettext("Reward"), gettext("Status"), gettext("Expires"), ""],
            [(v.code, v.reward.name, v.get_status_display() + (f" ({v.void_reason})" if v.void_reason else ""),
              f"{v.expires_at:%Y-%m-%d}",
              format_html("<a class='button' href='{}'>{}</a>", reverse("admin:members_member_voucher_void",
                                                                        args=[obj.pk, v.pk]), gettext("Void"))
              if may_void and v.status == Voucher.Status.ISSUED else "") for v in rows],
        ) if rows else "-"

    @admin.display(description=_("Redemptions (latest 20)"))
    def redemptions(self, obj: Member) -> str:
        if not obj.pk:
            return "-"
        rows = Redemption.objects.filter(member=obj).select_related("reward").order_by("-id")[:20]
        may_cancel = self._may(obj, CANCEL)
        return _table(
            [gettext("When"), gettext("What"), gettext("Points"), gettext("Status"), ""],
            [(f"{r.created_at:%Y-%m-%d %H:%M}", r.reward.name if r.reward else r.get_kind_display(), r.points,
              r.get_status_display(),
              format_html("<a class='button' href='{}'>{}</a>", reverse("admin:members_member_redemption_cancel",
                                                                        args=[obj.pk, r.pk]), gettext("Cancel"))
              if may_cancel and r.status == Redemption.Status.COMPLETED and r.kind != Redemption.Kind.CHECKOUT
              else "") for r in rows],
        ) if rows else "-"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:member_id>/purchase/", view(self.purchase_view), name="members_member_purchase"),
            path("<int:member_id>/voucher/", view(self.voucher_view), name="members_member_voucher"),
            path("<int:member_id>/redemptions/<int:redemption_id>/cancel/", view(self.cancel_view),
                 name="members_member_redemption_cancel"),
            path("<int:member_id>/vouchers/<int:voucher_id>/void/", view(self.void_view),
                 name="members_member_voucher_void"),
        ] + super().get_urls()

    def _page(self, request, member: Member, title: str, form, **extra):
        context = {**self.admin_site.each_context(request), "title": title, "form": form, "member": member,
                   "opts": self.model._meta, **extra}
        return render(request, "admin/members/member_form_page.html", context)

    def _back(self, member: Member):
        return redirect("admin:members_member_change", member.pk)

    def purchase_view(self, request, member_id: int):
        if not request.user.has_perm(PURCHASE):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        program = ProgramSettings.current()
        form = PurchaseForm(request.POST or None, initial={"key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    order, _referral = flows.order_place(
                        member=member, channel_id=channel_id("admin"), order_id=data["order_id"].strip(),
                        amount=data["amount"], currency=program.currency, store=data["store"],
                        idempotency_key=derived_key("admin-order", data["key"]))
                    audit_record(action="order.walk_in", target_type="order", target_id=order.order_id,
                                 actor=request.user, details={"member": member.external_id, "amount": str(order.amount),
                                                              "points": order.points_earned})
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("Purchase %(order)s recorded: %(points)s points.") % {
                    "order": order.order_id, "points": order.points_earned})
                return self._back(member)
        return self._page(request, member, gettext("Record a purchase: %(member)s") % {"member": member}, form,
                          intro=gettext("A purchase made in the store, in %(currency)s. The points are earned as for "
                                        "an order from the shop.") % {"currency": program.currency},
                          submit_label=gettext("Record the purchase"))

    def voucher_view(self, request, member_id: int):
        """Check a voucher's code (first submit), then use it (the confirmation)."""
        if not request.user.has_perm(USE_VOUCHER):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        form = VoucherForm(request.POST or None)
        found = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                found = rewards.voucher_get(code=data["code"])
                if found.member_id != member.pk:
                    raise ApplicationError(gettext("This voucher belongs to another member."))
                problem = rewards.voucher_problem(found, timezone.now())
                if problem:
                    raise ApplicationError(problem[1])
                if request.POST.get("use") == "1":
                    with transaction.atomic():
                        used = rewards.voucher_redeem(code=data["code"], channel_id=channel_id("admin"),
                                                      store=data["store"], order_id=data["order_id"])
                        audit_record(action="voucher.use", target_type="voucher", target_id=used.code,
                                     actor=request.user, details={"member": member.external_id})
                    messages.success(request, gettext("Voucher %(code)s used: %(reward)s.") % {
                        "code": used.code, "reward": used.reward.name})
                    return self._back(member)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                found = None
        context = {**self.admin_site.each_context(request), "form": form, "member": member, "voucher": found,
                   "opts": self.model._meta, "title": gettext("Use a voucher: %(member)s") % {"member": member}}
        return render(request, "admin/members/voucher_use.html", context)

    def cancel_view(self, request, member_id: int, redemption_id: int):
        if not request.user.has_perm(CANCEL):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        redemption = get_object_or_404(Redemption, pk=redemption_id, member=member)
        form = ReasonForm(request.POST or None, initial={"key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            try:
                self._cancel(request, redemption, form.cleaned_data, action="redemption.cancel")
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("Redemption cancelled: %(points)s points given back.") % {
                    "points": redemption.points})
                return self._back(member)
        return self._page(request, member, gettext("Cancel a redemption: %(member)s") % {"member": member}, form,
                          intro=gettext("%(what)s, %(points)s points: the points come back to the member and its "
                                        "unused vouchers are voided.") % {
                              "what": redemption.reward.name if redemption.reward else redemption.get_kind_display(),
                              "points": redemption.points},
                          submit_label=gettext("Cancel the redemption"))

    def _cancel(self, request, redemption: Redemption, data: dict, *, action: str) -> Redemption:
        with transaction.atomic():
            done = flows.redemption_cancel(redemption_id=redemption.pk, channel_id=redemption.channel_id,
                                           idempotency_key=derived_key("admin-cancel", data["key"]),
                                           reason=data["reason"], actor=request.user)
            audit_record(action=action, target_type="redemption", target_id=redemption.pk, actor=request.user,
                         details={"reason": data["reason"], "points": redemption.points})
        return done

    def void_view(self, request, member_id: int, voucher_id: int):
        if not request.user.has_perm(VOID):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        voucher = get_object_or_404(Voucher.objects.select_related("redemption", "reward"), pk=voucher_id,
                                    member=member)
        redemption = voucher.redemption
        # The whole redemption is voided when no other voucher of it is still usable or used: then its points come
        # back (one flow cancels it and voids its vouchers). Otherwise only this voucher is voided.
        whole = redemption is not None and redemption.status == Redemption.Status.COMPLETED and not (
            redemption.vouchers.exclude(pk=voucher.pk).exclude(status=Voucher.Status.VOID).exists())
        form = ReasonForm(request.POST or None, initial={"key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            try:
                if whole:
                    self._cancel(request, redemption, form.cleaned_data, action="voucher.void_and_refund")
                    done = gettext("Voucher voided; %(points)s points given back.") % {"points": redemption.points}
                else:
                    with transaction.atomic():
                        rewards.voucher_void(voucher=voucher, reason=form.cleaned_data["reason"], actor=request.user)
                    done = gettext("Voucher voided.")
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, done)
                return self._back(member)
        intro = (gettext("The points of this redemption (%(points)s) come back to the member.") % {
            "points": redemption.points} if whole else gettext("No points come back: other vouchers of the same "
                                                               "redemption are still valid, or it was a gift."))
        return self._page(request, member, gettext("Void voucher %(code)s") % {"code": voucher.code}, form,
                          intro=intro, submit_label=gettext("Void the voucher"))


admin.site.unregister(Member)
admin.site.register(Member, CounterMemberAdmin)
