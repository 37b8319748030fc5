"""The members' own small page: balance, points expiring soon, tier and progress, vouchers with a QR code to show
at the till, rewards within reach, redemptions, referral code and link, paid membership, latest history.

A member arrives through one of two links:
- `/account/?link=...`: a signed, read-only link that works for days (MEMBER_PAGE_LINK_TTL), for e-mails, issued
  by POST /api/v1/members/{external_id}/page-links and revoked (all of a member's at once) by DELETE there or by
  staff in the admin;
- `/account/?token=...`: the member's short-lived API token (POST /api/v1/members/{external_id}/tokens).
Either is kept in the session and dropped from the address; it is checked again on every visit, so a revoked or
expired link stops an open page too. It opens this member's page only.

The page speaks the member's language (Member.language), unless they chose another on the page (`?lang=`);
without a member (an expired link), the browser's.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.account import account_page_get
from members.authentication import member_for_token
from members.services import member_for_page_link

SESSION_KEY = "member_token"
LINK_SESSION_KEY = "member_page_link"
LANGUAGE_SESSION_KEY = "member_page_language"
LANGUAGES = {code for code, _ in settings.LANGUAGES}


def _member(request: HttpRequest):
    link = request.session.get(LINK_SESSION_KEY, "")
    if link:
        return member_for_page_link(link)
    return member_for_token(request.session.get(SESSION_KEY, ""))


def _language(request: HttpRequest, member) -> str:
    chosen = request.session.get(LANGUAGE_SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    if member is not None and member.language in LANGUAGES:
        return member.language
    return translation.get_language_from_request(request)


@never_cache
@vary_on_headers("Accept-Language")
@require_GET
def member_account(request: HttpRequest) -> HttpResponse:
    if "token" in request.GET or "link" in request.GET or "lang" in request.GET:
        if "link" in request.GET:
            request.session[LINK_SESSION_KEY] = request.GET["link"][:1000]
            request.session.pop(SESSION_KEY, None)
        elif "token" in request.GET:
            request.session[SESSION_KEY] = request.GET["token"][:200]
            request.session.pop(LINK_SESSION_KEY, None)
        if request.GET.get("lang") in LANGUAGES:
            request.session[LANGUAGE_SESSION_KEY] = request.GET["lang"]
        return redirect("member-account")
    member = _member(request)
    with translation.override(_language(request, member)):
        if member is None:
            request.session.pop(SESSION_KEY, None)
            request.session.pop(LINK_SESSION_KEY, None)
            return render(request, "account/expired.html", status=401)
        response = render(request, "account/home.html", {"page": account_page_get(member=member)})
        response["Content-Language"] = translation.get_language()
        return response
