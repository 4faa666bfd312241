"""Export one user's notes (images, lines, corrections, plain text) into a zip file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ocr_app.management.users import user_named
from ocr_app.services.export import export_notes


class Command(BaseCommand):
    help = "Write all notes of --owner to a zip file that 'import_export' (on any Inkdex) reads back."

    def add_arguments(self, parser) -> None:
        parser.add_argument("destination", type=Path)
        parser.add_argument("--owner", required=True)

    def handle(self, *args, destination: Path, owner: str, **options) -> None:
        user = user_named(owner)
        if destination.exists():
            raise CommandError(f"{destination} exists already.")
        count = export_notes(user=user, destination=destination)
        self.stdout.write(f"Exported {count} note(s) of {owner} to {destination}")
