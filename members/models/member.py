from django.db import models
from django.db.models import Q
from django.db.models.functions import ExtractDay, ExtractMonth
from django.utils import timezone as dj_timezone


class Member(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        SIMPLIFIED_CHINESE = "zh-hans", "Simplified Chinese"

    external_id = models.CharField(max_length=64, unique=True, help_text="The shop's customer id.")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=32, blank=True, db_index=True, help_text="Normalised: + and digits.")
    card_number = models.CharField(max_length=32, null=True, blank=True, unique=True)
    birth_date = models.DateField(null=True, blank=True)
    # Kept by the database from birth_date, so the birthday job finds today's birthdays through an index.
    birth_month = models.GeneratedField(expression=ExtractMonth("birth_date"), output_field=models.SmallIntegerField(),
                                        db_persist=True)
    birth_day = models.GeneratedField(expression=ExtractDay("birth_date"), output_field=models.SmallIntegerField(),
                                      db_persist=True)
    timezone = models.CharField(max_length=64, default="UTC")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    marketing_consent = models.BooleanField(default=False)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH,
                                help_text="The language of the messages the member receives.")
    joined_at = models.DateTimeField(default=dj_timezone.now)
    page_link_version = models.PositiveIntegerField(
        default=0, db_default=0,
        help_text="Signed links to the member's page carry this number; raising it revokes them all.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["birth_month", "birth_day", "id"], condition=Q(status="active"),
                                name="member_birthday"),
                   # Campaigns' anniversary trigger: today's joining anniversaries, one range per past year.
                   models.Index(fields=["joined_at"], condition=Q(status="active"), name="member_joined")]

    def __str__(self) -> str:
        return f"{self.name or self.external_id} ({self.external_id})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class MemberToken(models.Model):
    """A short-lived bearer token that lets a member's app read that member's own data only."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    channel_id = models.BigIntegerField(null=True)
    api_key = models.ForeignKey("core.ApiKey", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="member_tokens", help_text="The key that issued it: revoked with it.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
