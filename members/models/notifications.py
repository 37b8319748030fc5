import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import track

from .member import Member


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@track(exclude=("secret",))
class WebhookEndpoint(models.Model):
    """Where the shop wants to hear of members' messages (to push or text them). Configured by staff."""

    name = models.CharField(max_length=100, verbose_name=_("name"))
    url = models.URLField(max_length=500, verbose_name=_("url"))
    secret = models.CharField(max_length=128, default=new_secret,
                              help_text=_("Signs every request: X-Loyalty-Signature = HMAC-SHA256 of "
                                        "'<timestamp>.<body>' with this secret, hex."), verbose_name=_("secret"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    kinds = models.JSONField(default=list, blank=True,
                             help_text=_('Message kinds to send, e.g. ["points_expiring", "birthday_gift"]; empty for all.'),
        verbose_name=_("kinds"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"

    def wants(self, kind: str) -> bool:
        return self.active and (not self.kinds or kind in self.kinds)


class Notification(models.Model):
    """The outbox: a message to a member through one channel, written in the transaction of the event that
    causes it, and delivered afterwards (retried with backoff, dead-lettered after the last try).

    One message (`dedupe_key`) has one row per channel it goes through (`target`: "email", "webhook:<id>",
    or "none" when the member cannot be reached); (dedupe_key, target) is unique, so a job that runs twice
    records a message once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        DEAD = "dead", _("Dead-lettered (every try failed)")
        SKIPPED = "skipped", _("Skipped (no consent or no channel)")

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook to the shop")
        NONE = "none", _("No channel")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="notifications",
        verbose_name=_("member"))
    kind = models.CharField(max_length=64, verbose_name=_("kind"))
    payload = models.JSONField(default=dict, verbose_name=_("payload"))
    dedupe_key = models.CharField(max_length=200, verbose_name=_("dedupe key"))
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL,
        verbose_name=_("channel"))
    endpoint = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.PROTECT,
        verbose_name=_("endpoint"))
    target = models.CharField(max_length=32, default="email", verbose_name=_("target"))
    marketing = models.BooleanField(default=False, verbose_name=_("marketing"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(default=timezone.now, help_text=_("Not before this time (retries back off)."),
        verbose_name=_("next attempt at"))
    last_error = models.CharField(max_length=500, blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["dedupe_key", "target"], name="notification_once_per_channel")]
        indexes = [models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"),
                                name="notification_due")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.member_id} by {self.target} ({self.status})"
