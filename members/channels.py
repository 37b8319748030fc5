"""How a message leaves: e-mail through Django's mail framework, and a signed webhook to the shop.

Each function sends one message and raises DeliveryError when it did not go; the outbox decides about retries.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from .models import Member, Notification, WebhookEndpoint

LANGUAGES = {Member.Language.ENGLISH, Member.Language.SIMPLIFIED_CHINESE}


class DeliveryError(Exception):
    pass


def _render(name: str, language: str, context: dict) -> str:
    language = language if language in LANGUAGES else Member.Language.ENGLISH
    try:
        return render_to_string(f"notifications/{language}/{name}", context)
    except TemplateDoesNotExist:
        return render_to_string(f"notifications/{language}/{name.replace(name.split('.')[0], 'generic', 1)}", context)


def email_render(notification: Notification) -> tuple[str, str]:
    """(subject, body) in the member's language, with the payload's values (points, dates) in it."""
    member = notification.member
    context = {**notification.payload, "payload": notification.payload, "kind": notification.kind, "member": member,
               "name": member.name or member.external_id}
    subject = _render(f"{notification.kind}.subject.txt", member.language, context)
    body = _render(f"{notification.kind}.txt", member.language, context)
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


def webhook_send(notification: Notification, endpoint: WebhookEndpoint) -> None:
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
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} from {endpoint.url}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"{endpoint.url}: {getattr(exc, 'reason', exc)}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status} from {endpoint.url}")
