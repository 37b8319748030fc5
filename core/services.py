from django.db import transaction
from django.utils import timezone

from .errors import BadRequest
from .models import DEFAULT_SHOP_SCOPES, ApiKey, AuditLog, Channel, Scope, hash_key


def audit_record(*, action: str, target_type: str, target_id, actor=None, channel_id: int | None = None,
                 details: dict | None = None) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None, channel_id=channel_id, action=action,
        target_type=target_type, target_id=str(target_id), details=details or {},
    )


@transaction.atomic(savepoint=False)
def api_key_create(*, channel: Channel | str, name: str, scopes: list[str] | None = None,
                   created_by=None) -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned once and never stored."""
    if isinstance(channel, str):
        channel = Channel.named(channel)
    scopes = list(scopes) if scopes else list(DEFAULT_SHOP_SCOPES)
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise BadRequest(f"Unknown scopes: {', '.join(unknown)}. Known: {', '.join(Scope.values)}.")
    prefix, raw = ApiKey.generate()
    key = ApiKey.objects.create(channel=channel, name=name, prefix=prefix, key_hash=hash_key(raw), scopes=scopes,
                                created_by=created_by if getattr(created_by, "pk", None) else None)
    audit_record(action="api_key.create", target_type="api_key", target_id=key.pk, actor=created_by,
                 details={"channel": channel.name, "name": name, "scopes": scopes})
    return key, raw


@transaction.atomic(savepoint=False)
def api_key_revoke(*, api_key: ApiKey, actor=None) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(action="api_key.revoke", target_type="api_key", target_id=api_key.pk, actor=actor)
