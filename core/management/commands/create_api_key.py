from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from core.models import DEFAULT_SHOP_SCOPES, Scope
from core.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a channel and print it once. All shop scopes unless --scopes narrows them."

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, help="channel name, e.g. webshop or pos")
        parser.add_argument("--name", default="", help="what the key is for")
        parser.add_argument("--scopes", nargs="*", help=f"scopes to grant; known: {', '.join(Scope.values)}; "
                            f"default: {', '.join(DEFAULT_SHOP_SCOPES)}")

    def handle(self, *args, channel: str, name: str, scopes: list[str] | None, **options):
        try:
            key, raw = api_key_create(channel=channel, name=name or f"{channel} key", scopes=scopes)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"Key {key.prefix} for channel {channel}, scopes: {' '.join(key.scopes)}")
        self.stderr.write("Store it now; it is not shown again.")
        self.stdout.write(raw)
