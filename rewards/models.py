from django.db import models

from core.models import Channel
from loyalty.models import Transaction
from members.models import Member


class Redemption(models.Model):
    """Points spent by a member: on an order at checkout, or (later) on a reward of the catalog."""

    class Status(models.TextChoices):
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="redemptions")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT)
    points = models.BigIntegerField()
    order_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="redemption")
    cancel_transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                              related_name="cancelled_redemption")
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(points__gt=0), name="redemption_points_positive")]
        indexes = [models.Index(fields=["member", "-id"])]

    def __str__(self) -> str:
        return f"redemption #{self.pk}: {self.points} points ({self.status})"
