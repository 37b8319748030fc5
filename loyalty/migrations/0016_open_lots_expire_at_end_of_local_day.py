from django.conf import settings
from django.db import migrations

# Lots earned before expiry moved to the end of the member's day kept the instant of earning N months later.
# Move every lot not yet expired (empty ones too: points may come back to them) to the end of that local day
# (never earlier than before: a member only gains hours).
# Set-based; an unknown or empty time zone counts as the program's.
FORWARD = """
UPDATE loyalty_lot l
SET expires_at = ((((l.expires_at AT TIME ZONE z.name)::date + 1)::timestamp AT TIME ZONE z.name)
                  - interval '1 microsecond')
FROM (
    SELECT m.id AS member_id,
           CASE WHEN EXISTS (SELECT 1 FROM pg_timezone_names t WHERE t.name = m.timezone) THEN m.timezone
                ELSE %s END AS name
    FROM members_member m
) z
WHERE z.member_id = l.member_id AND l.expires_at > now()
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=[settings.TIME_ZONE])


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0015_ledger_check"), ("members", "0001_initial")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
