from django.db import models

from .member import Member


class Notification(models.Model):
    """The outbox: a message to a member, written in the transaction of the event that causes it.

    `dedupe_key` is unique, so a job that runs twice records a message once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no consent or no channel)"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    dedupe_key = models.CharField(max_length=200, unique=True)
    marketing = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_at"], condition=models.Q(status="pending"), name="notification_pending")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.member_id} ({self.status})"
