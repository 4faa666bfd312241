"""Export one user's notes (images, lines, corrections, plain text) into a zip file."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ocr_app.services.export import export_notes


class Command(BaseCommand):
    help = "Write all notes of --owner to a zip file that 'import_export' (on any Inkdex) reads back."

    def add_arguments(self, parser) -> None:
        parser.add_argument("destination", type=Path)
        parser.add_argument("--owner", required=True)

    def handle(self, *args, destination: Path, owner: str, **options) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: owner})
        except User.DoesNotExist as exc:
            raise CommandError(f"No user called {owner!r}.") from exc
        if destination.exists():
            raise CommandError(f"{destination} exists already.")
        count = export_notes(user, destination)
        self.stdout.write(f"Exported {count} note(s) of {owner} to {destination}")
