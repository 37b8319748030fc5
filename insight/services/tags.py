"""Tags: staff attach manual ones; rule-based ones follow their condition, evaluated nightly after the segments,
one set-based statement pair per rule tag (members newly matching get it; members no longer matching lose it)."""

from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from members.models import Member

from ..models import MemberFacts, MemberSegment, MemberTag, Tag

FACTS, SEGMENTS, MEMBER_TAGS = MemberFacts._meta.db_table, MemberSegment._meta.db_table, MemberTag._meta.db_table
EXPRESSIONS = {
    "net_orders": "(f.orders_count - f.refunded_orders)",
    "spend": "f.spend",
    "average_order_value": "f.spend / NULLIF(f.orders_count - f.refunded_orders, 0)",
    "categories_count": "f.categories_count",
    "days_since_last_order": "EXTRACT(EPOCH FROM (%(now)s - f.last_order_at)) / 86400",
    "last_nps": "f.last_nps",
    "last_cli": "f.last_cli",
    "stage": "s.stage",
    "value_tier": "s.value_tier",
    "loyalty_type": "s.loyalty_type",
}
OPERATORS = {"gte": ">=", "lte": "<=", "eq": "="}


def _matching(tag: Tag) -> str:
    return (f"SELECT s.member_id FROM {SEGMENTS} s LEFT JOIN {FACTS} f ON f.member_id = s.member_id "
            f"WHERE {EXPRESSIONS[tag.rule_field]} {OPERATORS[tag.rule_op]} %(value)s")


def tags_evaluate(*, now: datetime | None = None) -> dict[str, int]:
    """Apply every rule tag to every member with segments; returns {tag code: members tagged}."""
    now = now or timezone.now()
    result = {}
    for tag in Tag.objects.exclude(rule_field="").order_by("pk"):
        value = tag.rule_value if tag.rule_field in Tag.TEXT_FIELDS else Decimal(tag.rule_value)
        params = {"tag": tag.pk, "value": value, "now": now}
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {MEMBER_TAGS} WHERE tag_id = %(tag)s AND source = 'rule' "
                           f"AND member_id NOT IN ({_matching(tag)})", params)
            cursor.execute(f"INSERT INTO {MEMBER_TAGS} (member_id, tag_id, source, added_at) "
                           f"SELECT member_id, %(tag)s, 'rule', %(now)s FROM ({_matching(tag)}) AS m "
                           "ON CONFLICT (member_id, tag_id) DO NOTHING", params)
            cursor.execute(f"SELECT COUNT(*) FROM {MEMBER_TAGS} WHERE tag_id = %(tag)s", params)
            result[tag.code] = cursor.fetchone()[0]
    return result


@transaction.atomic
def member_tag_attach(*, member: Member, tag: Tag) -> MemberTag:
    """Attach a tag by hand (a rule tag attached by hand stays until its rule drops the member)."""
    attached, _ = MemberTag.objects.get_or_create(member=member, tag=tag, defaults={
        "source": MemberTag.Source.MANUAL, "added_at": timezone.now()})
    return attached


def member_tag_detach(*, member: Member, tag: Tag) -> None:
    MemberTag.objects.filter(member=member, tag=tag).delete()
