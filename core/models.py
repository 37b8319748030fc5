import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from pghistory.models import MiddlewareEvents

from .cache import cached, forget
from .history import track


@track()
class Channel(models.Model):
    """Where a write comes from: a shop's web store, its POS, the admin, our own jobs.

    Idempotency keys and order ids are unique per channel.
    """

    ADMIN = "admin"
    SYSTEM = "system"

    name = models.SlugField(max_length=64, unique=True, verbose_name=_("name"))
    description = models.CharField(max_length=200, blank=True, verbose_name=_("description"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def named(cls, name: str) -> "Channel":
        channel, _ = cls.objects.get_or_create(name=name)
        return channel


class Scope(models.TextChoices):
    MEMBERS_READ = "members:read", _("Read members, balances and statements")
    MEMBERS_WRITE = "members:write", _("Register and update members")
    MEMBERS_TOKENS = "members:tokens", _("Issue member-scoped tokens")
    POINTS_EARN = "points:earn", _("Award points on orders and take them back on refunds")
    POINTS_REDEEM = "points:redeem", _("Redeem points and cancel redemptions")
    POINTS_ADJUST = "points:adjust", _("Manual credits and debits (not granted unless asked for)")
    MEMBERS_EXPORT = "members:export", _("Export all personal data of a member (GDPR; not granted unless asked for)")
    MEMBERS_ERASE = "members:erase", _("Erase a member's personal data (GDPR; not granted unless asked for)")


DEFAULT_SHOP_SCOPES = [s.value for s in Scope if s not in (Scope.POINTS_ADJUST, Scope.MEMBERS_EXPORT, Scope.MEMBERS_ERASE)]


def hash_key(raw: str) -> str:
    # Keys are 256-bit random secrets, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


@track(exclude=("key_hash", "last_used_at"))
class ApiKey(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("channel"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    prefix = models.CharField(max_length=12, db_index=True, help_text=_("Shown to tell keys apart."),
        verbose_name=_("prefix"))
    key_hash = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("key hash"))
    scopes = models.JSONField(default=list, verbose_name=_("scopes"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        verbose_name=_("created by"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))

    class Meta:
        verbose_name_plural = _("API keys")
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.channel} / {self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> tuple[str, str]:
        prefix = secrets.token_hex(4)
        return prefix, f"lk_{prefix}_{secrets.token_urlsafe(32)}"


class IdempotencyRecord(models.Model):
    """The first successful answer to a write, kept so that a replay gets the same answer.

    Read only by (channel, key); no index on `created_at`: every write of the API would pay an index entry for it,
    and the one reader by age, the daily purge (core.idempotency.idempotency_records_purge, after
    IDEMPOTENCY_RETENTION_DAYS), finds its boundary by id, which follows time."""

    # No foreign key constraint in the database (db_constraint=False): its check would take a shared lock on the one
    # channel row on every write of every request of that channel (a WAL record and, with requests in parallel, a
    # new multixact each time), to guard a tiny table whose rows are never deleted; Django's PROTECT still refuses
    # to delete a channel that has records. The same holds for the ledger's transactions and orders.
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_index=False,
                                db_constraint=False, verbose_name=_("channel"))  # unique (channel, key)
    key = models.CharField(max_length=255, verbose_name=_("key"))
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    status_code = models.PositiveSmallIntegerField(null=True, verbose_name=_("status code"))
    response = models.JSONField(null=True, verbose_name=_("response"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["channel", "key"], name="idempotency_unique_per_channel")]


class AuditLog(models.Model):
    """Who did what, append-only (a trigger refuses UPDATE and DELETE on PostgreSQL)."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        verbose_name=_("actor"))
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("channel"))
    action = models.CharField(max_length=64, verbose_name=_("action"))
    target_type = models.CharField(max_length=64, verbose_name=_("target type"))
    target_id = models.CharField(max_length=64, verbose_name=_("target id"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("audit log")
        verbose_name_plural = _("audit logs")
        indexes = [models.Index(fields=["target_type", "target_id"])]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor or self.channel} {self.action} {self.target_type}#{self.target_id}"


class SettingsRow(models.Model):
    """A model of one row of settings that staff edit (program, membership, redemption rules).

    `current()` reads it through the per-process cache (core.cache); saving it makes this process forget it at
    once, and the others within SETTINGS_CACHE_SECONDS.
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget(self._meta.label)

    @classmethod
    def current(cls):
        return cached(cls._meta.label, lambda: cls.objects.get_or_create(pk=1)[0])


class DataChange(MiddlewareEvents):
    """The data-change history of every tracked table (core.history), as one read-only list: pghistory's events
    with their diff (field -> [old, new]) and the request's context (user, url; channel for the shop's API)."""

    class Meta:
        proxy = True
        verbose_name = _("data change")
        verbose_name_plural = _("history")
