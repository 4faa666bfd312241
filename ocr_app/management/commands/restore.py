"""Restore a backup made by 'backup'. Stop the web server and the workers first."""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ocr_app.services.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Replace the database and images with those of a backup (stop Inkdex first)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument("--force", action="store_true", help="Replace notes already stored here.")

    def handle(self, *args, archive: Path, force: bool, **options) -> None:
        try:
            manifest = restore_backup(archive, force=force)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        # A backup from an older Inkdex gets this version's tables; the search
        # index is checked (and restored if needed) by migrate's hook.
        call_command("migrate", verbosity=0, interactive=False)
        self.stdout.write(
            f"Restored {manifest['notes']} note(s) and {manifest['files']} file(s) from a backup of {manifest['created']}."
        )
