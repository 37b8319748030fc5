import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.history import track

from .member import Member


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@track(exclude=("secret",))
class WebhookEndpoint(models.Model):
    """Where the shop wants to hear of members' messages (to push or text them). Configured by staff."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, default=new_secret,
                              help_text="Signs every request: X-Loyalty-Signature = HMAC-SHA256 of "
                                        "'<timestamp>.<body>' with this secret, hex.")
    active = models.BooleanField(default=True)
    kinds = models.JSONField(default=list, blank=True,
                             help_text='Message kinds to send, e.g. ["points_expiring", "birthday_gift"]; empty for all.')
    created_at = models.DateTimeField(auto_now_add=True)

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
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        DEAD = "dead", "Dead-lettered (every try failed)"
        SKIPPED = "skipped", "Skipped (no consent or no channel)"

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook to the shop"
        NONE = "none", "No channel"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    dedupe_key = models.CharField(max_length=200)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    endpoint = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.PROTECT)
    target = models.CharField(max_length=32, default="email")
    marketing = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, help_text="Not before this time (retries back off).")
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["dedupe_key", "target"], name="notification_once_per_channel")]
        indexes = [models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"),
                                name="notification_due")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.member_id} by {self.target} ({self.status})"
