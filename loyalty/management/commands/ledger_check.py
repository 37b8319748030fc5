"""`manage.py ledger_check`: prove the books now (the nightly job's check), print the result, exit 1 on drift."""

from django.core.management.base import BaseCommand, CommandError

from loyalty.services import ledger_check_record


class Command(BaseCommand):
    help = "Check that every member's balances equal their transactions and lots, and every lot its movements."

    def handle(self, *args, **options):
        check = ledger_check_record()
        details = check.details
        self.stdout.write(f"Checked {check.members_checked} members and {check.lots_checked} lots "
                          f"(entries {details['entries_total']}, balances {details['balances_total']}).")
        if check.drifted:
            for row in details["members"][:20]:
                self.stdout.write(f"  member {row['member_id']}: {row}")
            for row in details["lots"][:20]:
                self.stdout.write(f"  lot {row['lot']}: remaining {row['remaining']}, movements {row['moved']}")
            raise CommandError(f"Ledger check #{check.pk}: {check.drifted} drifted.")
        self.stdout.write(self.style.SUCCESS(f"Ledger check #{check.pk}: the books balance."))
