"""Every member has a referral code from registration on; give one to those registered before that.

Keyset batches of members without a code, each one INSERT that commits on its own, so that the migration can
be stopped and run again; a batch's rare code collisions are left for the next pass."""

import secrets

from django.db import migrations, transaction

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # as referrals.services.codes, frozen here
LENGTH = 8
BATCH = 5000
PASSES = 8


def give_codes(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    ReferralCode = apps.get_model("referrals", "ReferralCode")
    db = schema_editor.connection.alias
    missing = Member.objects.using(db).filter(referral_code__isnull=True).order_by("id")
    for _ in range(PASSES):
        after = 0
        while ids := list(missing.filter(id__gt=after).values_list("id", flat=True)[:BATCH]):
            with transaction.atomic(using=db):
                ReferralCode.objects.using(db).bulk_create(
                    [ReferralCode(member_id=i, code="".join(secrets.choice(ALPHABET) for _ in range(LENGTH)))
                     for i in ids], ignore_conflicts=True)
            after = ids[-1]
        if not missing.exists():
            return
    raise RuntimeError("Some members could not be given a free referral code; run the migration again.")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0005_notification_schedule"),
        ("referrals", "0001_referral_programs"),
    ]

    operations = [migrations.RunPython(give_codes, migrations.RunPython.noop, elidable=True)]
