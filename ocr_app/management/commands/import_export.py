"""Import a zip file made by 'export_notes' (or the web export) as notes of a user."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ocr_app.management.users import user_named
from ocr_app.services.import_export import ExportError, import_export_archive


class Command(BaseCommand):
    help = "Recreate the notes of an Inkdex export for --owner (notes already there are skipped)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", type=Path)
        parser.add_argument("--owner", required=True)

    def handle(self, *args, source: Path, owner: str, **options) -> None:
        user = user_named(owner)
        try:
            report = import_export_archive(user=user, source=source)
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Imported {report.imported} note(s) for {owner}; {report.skipped} already there.")
        if report.words_added or report.words_known:
            self.stdout.write(
                f"Learned words: {report.words_added} added, {report.words_known} merged with {owner}'s own."
            )
