"""How a message leaves: e-mail through Django's mail framework, and a signed webhook to the shop.

Each function sends one message and raises DeliveryError when it did not go; the outbox decides about retries.
"""

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from .models import Member, MembershipSettings, Notification, Plan, Tier, WebhookEndpoint

LANGUAGES = {Member.Language.ENGLISH, Member.Language.SIMPLIFIED_CHINESE}


class DeliveryError(Exception):
    pass


CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CNY": "¥", "JPY": "¥", "HKD": "HK$"}
CURRENCY_NAMES_ZH = {"CHF": "瑞士法郎", "SGD": "新加坡元", "AUD": "澳元", "CAD": "加元", "TWD": "新台币", "KRW": "韩元",
                     "MOP": "澳门元", "MYR": "马来西亚林吉特", "THB": "泰铢", "NZD": "新西兰元"}


def _language(language: str) -> str:
    return language if language in LANGUAGES else Member.Language.ENGLISH


def _render(name: str, language: str, context: dict) -> str:
    try:
        return render_to_string(f"notifications/{language}/{name}", context)
    except TemplateDoesNotExist:
        return render_to_string(f"notifications/{language}/{name.replace(name.split('.')[0], 'generic', 1)}", context)


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _count(value) -> tuple[str, int | None]:
    """Points as a member reads them ("1,200"), and the whole number (for "point"/"points"). A fraction of a
    point still needed counts as a whole one."""
    amount = _decimal(value)
    if amount is None or not amount.is_finite():
        return str(value), None
    whole = int(amount.to_integral_value(rounding=ROUND_CEILING))
    return f"{whole:,}", whole


def money_text(amount, currency: str | None, language: str) -> str:
    """An amount with its currency, as a member reads it: "€9.99", "1,250.00 瑞士法郎", "12.50 CHF"."""
    value = _decimal(amount)
    text = f"{value:,.2f}" if value is not None and value.is_finite() else str(amount)
    currency = (currency or "").upper()
    if not currency:
        return text
    if currency in CURRENCY_SYMBOLS:
        return f"{CURRENCY_SYMBOLS[currency]}{text}"
    if language == Member.Language.SIMPLIFIED_CHINESE and currency in CURRENCY_NAMES_ZH:
        return f"{text} {CURRENCY_NAMES_ZH[currency]}"
    return f"{text} {currency}"


def _name_of(model, code) -> str:
    if not code:
        return ""
    return model.objects.filter(code=code).values_list("name", flat=True).first() or ""


def message_context(notification: Notification, language: str) -> dict:
    """What the templates show: the payload's values as a member reads them. Payloads carry codes (a tier's, a
    plan's), which are looked up here for their display names, at the time of sending; amounts get their units.
    Rewards live in an app above this one, so their names come in the payload (`reward_name`, or `reward` in the
    voucher messages), with the voucher's code (`voucher_code`, or `code`)."""
    payload, member = notification.payload, notification.member
    context = {**payload, "payload": payload, "kind": notification.kind, "member": member, "name": member.name}
    if "points" in payload:
        context["points"], context["points_count"] = _count(payload["points"])
    if payload.get("tier") or payload.get("tier_name"):
        context["tier_name"] = _name_of(Tier, payload.get("tier")) or payload.get("tier_name") or payload["tier"]
    if payload.get("plan") or payload.get("plan_name"):
        context["plan_name"] = _name_of(Plan, payload.get("plan")) or payload.get("plan_name") or payload["plan"]
    if "price" in payload:
        context["price"] = money_text(payload["price"], payload.get("currency"), language)
    context["reward_name"] = payload.get("reward_name") or payload.get("reward") or ""
    context["voucher_code"] = payload.get("voucher_code") or payload.get("code") or ""
    if "needed" in payload:
        basis = payload.get("basis") or MembershipSettings.current().basis
        context["needs_spend"] = basis == MembershipSettings.Basis.SPEND
        if context["needs_spend"]:
            context["needed"] = money_text(payload["needed"], payload.get("currency"), language)
        else:
            context["needed"], context["needed_count"] = _count(payload["needed"])
    return context


def email_render(notification: Notification) -> tuple[str, str]:
    """(subject, body) in the member's language, with display names and amounts with their units."""
    language = _language(notification.member.language)
    context = message_context(notification, language)
    subject = _render(f"{notification.kind}.subject.txt", language, context)
    body = _render(f"{notification.kind}.txt", language, context)
    return " ".join(subject.split()), body.strip() + "\n"


def email_send(notification: Notification) -> None:
    member = notification.member
    if not member.email:
        raise DeliveryError("The member has no e-mail address.")
    subject, body = email_render(notification)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[member.email],
                                     headers={"X-Loyalty-Message": str(notification.pk)})
    try:
        message.send()
    except Exception as exc:  # SMTP and connection errors: retried by the outbox
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def webhook_body(notification: Notification) -> bytes:
    member = notification.member
    return json.dumps({
        "id": notification.pk,
        "kind": notification.kind,
        "marketing": notification.marketing,
        "created_at": notification.created_at.isoformat(),
        "member": {"external_id": member.external_id, "name": member.name, "email": member.email, "phone": member.phone,
                   "language": member.language, "timezone": member.timezone},
        "payload": notification.payload,
    }, separators=(",", ":"), sort_keys=True).encode()


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of '<timestamp>.<body>' with the endpoint's secret, hex. The shop computes the same and
    compares (in constant time), and refuses timestamps too far from its clock (replays)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class _Deadline:
    """A socket whose every wait ends at one deadline for the whole call (a monotonic instant): each read or write
    gets the time that is left, so a peer that trickles its answer a byte at a time cannot stretch the call."""

    deadline: float | None = None

    def _arm(self) -> None:
        if self.deadline is None:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        self.settimeout(left)

    def recv(self, *args, **kwargs):
        self._arm()
        return super().recv(*args, **kwargs)

    def recv_into(self, *args, **kwargs):
        self._arm()
        return super().recv_into(*args, **kwargs)

    def send(self, *args, **kwargs):
        self._arm()
        return super().send(*args, **kwargs)

    def sendall(self, *args, **kwargs):
        self._arm()
        return super().sendall(*args, **kwargs)


class _DeadlineSocket(_Deadline, socket.socket):
    pass


class _DeadlineTLSSocket(_Deadline, ssl.SSLSocket):
    def do_handshake(self, *args, **kwargs):
        self._arm()
        return super().do_handshake(*args, **kwargs)


class _Connection(http.client.HTTPConnection):
    def __init__(self, *args, deadline: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.deadline = deadline
        self._create_connection = self._open

    def _open(self, address, timeout=None, source_address=None) -> socket.socket:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        plain = socket.create_connection(address, left, source_address)
        sock = _DeadlineSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
        sock.deadline = self.deadline
        return sock


class _TLSConnection(_Connection, http.client.HTTPSConnection):
    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self._context.sslsocket_class = _DeadlineTLSSocket  # a context of this connection's own
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._tunnel_host or self.host,
                                              do_handshake_on_connect=False)
        self.sock.deadline = self.deadline
        self.sock.do_handshake()


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: float):
        super().__init__()
        self.deadline = deadline

    def http_open(self, req):
        return self.do_open(partial(_Connection, deadline=self.deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: float):
        super().__init__()
        self.deadline = deadline

    def https_open(self, req):
        return self.do_open(partial(_TLSConnection, deadline=self.deadline), req)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook is a POST: following a 301/302/303 would turn it into a GET that delivers nothing, so a redirect
    is answered like any other non-2xx, as a failed try."""

    def redirect_request(self, *args, **kwargs):
        return None


def webhook_send(notification: Notification, endpoint: WebhookEndpoint) -> None:
    """POST the message to the shop. The whole call (connecting, sending, the answer's status and headers) must
    end within WEBHOOK_TIMEOUT_SECONDS; redirects are not followed; only a 2xx counts as delivered."""
    limit = settings.WEBHOOK_TIMEOUT_SECONDS
    deadline = time.monotonic() + limit
    body = webhook_body(notification)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(endpoint.url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "loyalty-webhooks/1",
        "X-Loyalty-Delivery": str(notification.pk),  # the same on every retry: the shop can drop duplicates
        "X-Loyalty-Event": notification.kind,
        "X-Loyalty-Timestamp": timestamp,
        "X-Loyalty-Signature": "sha256=" + webhook_signature(endpoint.secret, timestamp, body),
    })
    opener = urllib.request.build_opener(_NoRedirects, _HTTPHandler(deadline), _HTTPSHandler(deadline))
    try:
        with opener.open(request, timeout=limit) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            location = exc.headers.get("Location", "") if exc.headers else ""
            raise DeliveryError(f"HTTP {exc.code} from {endpoint.url}: a redirect (to {location or 'nowhere'}), "
                                "which webhooks do not follow") from exc
        raise DeliveryError(f"HTTP {exc.code} from {endpoint.url}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
            raise DeliveryError(f"{endpoint.url}: no complete answer within {limit:g} s") from exc
        raise DeliveryError(f"{endpoint.url}: {reason}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status} from {endpoint.url}")
