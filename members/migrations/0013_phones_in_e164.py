"""Members' phone numbers rewritten in E.164, read in the program's region (the settings row's, CN by default).

Numbers that cannot be read are kept as typed: the members list's filter "Phone: not readable" shows them, for
staff to correct. Keyset batches of 2,000 rows, each one bulk UPDATE of the rows that change; re-running changes nothing.
"""

from django.db import migrations

BATCH = 2000


def normalise(apps, schema_editor):
    from members.phones import DEFAULT_REGION, InvalidPhone, phone_parse

    Member = apps.get_model("members", "Member")
    MembershipSettings = apps.get_model("members", "MembershipSettings")
    region = MembershipSettings.objects.filter(pk=1).values_list("phone_region", flat=True).first() or DEFAULT_REGION
    last = 0
    while True:
        rows = list(Member.objects.filter(pk__gt=last).exclude(phone="").order_by("pk")
                    .values_list("pk", "phone")[:BATCH])
        if not rows:
            return
        last = rows[-1][0]
        changed = []
        for pk, phone in rows:
            try:
                e164 = phone_parse(phone, region=region)
            except InvalidPhone:
                continue
            if e164 != phone:
                changed.append((pk, e164))
        if changed:
            Member.objects.bulk_update([Member(pk=pk, phone=e164) for pk, e164 in changed], ["phone"])


class Migration(migrations.Migration):
    dependencies = [("members", "0012_phone_region_and_e164")]

    operations = [migrations.RunPython(normalise, migrations.RunPython.noop, elidable=True)]
