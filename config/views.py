"""The members' own small page: balance, points expiring, tier and progress, referral code, latest history.

A member arrives through a link the shop's app or e-mail gives them, carrying a member-scoped token
(`/account/?token=...`, issued by POST /api/v1/members/{external_id}/tokens). The token is kept in the session
for its lifetime and dropped from the address; it opens this member's page only.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from loyalty.selectors import balance_get, statement
from members.authentication import member_for_token
from referrals.selectors import referral_overview

SESSION_KEY = "member_token"


@never_cache
@require_GET
def member_account(request: HttpRequest) -> HttpResponse:
    if "token" in request.GET:
        request.session[SESSION_KEY] = request.GET["token"][:200]
        return redirect("member-account")
    member = member_for_token(request.session.get(SESSION_KEY, ""))
    if member is None:
        request.session.pop(SESSION_KEY, None)
        return render(request, "account/expired.html", status=401)
    balance = balance_get(member=member)
    context = {
        "member": member,
        "balance": balance,
        "tier": balance.tier,
        "history": list(statement(member=member)[:20]),
        "referral": referral_overview(member=member),
    }
    return render(request, "account/home.html", context)
