from django.db import models
from django.db.models import Q
from django.db.models.functions import ExtractDay, ExtractMonth
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from core.history import track


@track()
class Member(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        SIMPLIFIED_CHINESE = "zh-hans", _("Simplified Chinese")

    external_id = models.CharField(max_length=64, unique=True, help_text=_("The shop's customer id."),
        verbose_name=_("external id"))
    name = models.CharField(max_length=200, blank=True, verbose_name=_("name"))
    email = models.EmailField(blank=True, db_index=True, verbose_name=_("email"))
    phone = models.CharField(
        max_length=32, blank=True, db_index=True, verbose_name=_("phone"),
        help_text=_("E.164: + country code and number (+8613800138000). A number that could not be read when numbers "
                  "were normalised is kept as typed."))
    card_number = models.CharField(max_length=32, null=True, blank=True, unique=True, verbose_name=_("card number"))
    birth_date = models.DateField(null=True, blank=True, verbose_name=_("birth date"))
    # Kept by the database from birth_date, so the birthday job finds today's birthdays through an index.
    birth_month = models.GeneratedField(expression=ExtractMonth("birth_date"), output_field=models.SmallIntegerField(),
                                        db_persist=True, verbose_name=_("birth month"))
    birth_day = models.GeneratedField(expression=ExtractDay("birth_date"), output_field=models.SmallIntegerField(),
                                      db_persist=True, verbose_name=_("birth day"))
    timezone = models.CharField(max_length=64, default="UTC", verbose_name=_("timezone"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, verbose_name=_("status"))
    marketing_consent = models.BooleanField(default=False, verbose_name=_("marketing consent"))
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH,
                                help_text=_("The language of the messages the member receives."),
        verbose_name=_("language"))
    joined_at = models.DateTimeField(default=dj_timezone.now, verbose_name=_("joined at"))
    page_link_version = models.PositiveIntegerField(
        default=0, db_default=0,
        help_text=_("Signed links to the member's page carry this number; raising it revokes them all."),
        verbose_name=_("page link version"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-id"]
        indexes = [models.Index(fields=["birth_month", "birth_day", "id"], condition=Q(status="active"),
                                name="member_birthday"),
                   # Campaigns' anniversary trigger: today's joining anniversaries, one range per past year.
                   models.Index(fields=["joined_at"], condition=Q(status="active"), name="member_joined"),
                   # The dashboard's active members: all members less these few, without counting every member.
                   models.Index(fields=["status"], condition=~Q(status="active"), name="member_not_active")]

    def __str__(self) -> str:
        return f"{self.name or self.external_id} ({self.external_id})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class MemberToken(models.Model):
    """A short-lived bearer token that lets a member's app read that member's own data only."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tokens", verbose_name=_("member"))
    token_hash = models.CharField(max_length=64, unique=True, verbose_name=_("token hash"))
    channel_id = models.BigIntegerField(null=True, verbose_name=_("channel id"))
    api_key = models.ForeignKey("core.ApiKey", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="member_tokens", help_text=_("The key that issued it: revoked with it."),
        verbose_name=_("api key"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(db_index=True, verbose_name=_("expires at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("member token")
        verbose_name_plural = _("member tokens")
