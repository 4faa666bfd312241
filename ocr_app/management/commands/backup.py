"""Back up the database and the images of a running Inkdex into one tar file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ocr_app.services.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Write a consistent backup (database + images) while Inkdex runs. Restore it with 'restore'."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "destination", nargs="?", type=Path,
            help="A .tar file, or a folder to put inkdex-backup-<time>.tar in (default: the current folder).",
        )

    def handle(self, *args, destination: Path | None, **options) -> None:
        destination = destination or Path.cwd()
        if destination.is_dir():
            destination = destination / f"inkdex-backup-{timezone.now():%Y%m%d-%H%M%S}.tar"
        if destination.exists():
            raise CommandError(f"{destination} exists already; choose another name.")
        try:
            report = create_backup(destination)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        for name in report.missing:
            self.stderr.write(f"Not in the backup (its note was deleted meanwhile): {name}")
        self.stdout.write(f"Backed up {report.notes} note(s) and {report.files} file(s) to {report.path}")
