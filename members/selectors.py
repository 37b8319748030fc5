from core.errors import NotFound

from .models import Member


def member_get(*, external_id: str) -> Member:
    member = Member.objects.filter(external_id=external_id).first()
    if member is None:
        raise NotFound(f"No member with external_id {external_id!r}.", code="member_not_found")
    return member
