"""Import a folder of images (and PDFs, a note per page) as notes of one user, queued for recognition."""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from ocr_app.images import ACCEPTED_FORMATS
from ocr_app.management.progress import Progress
from ocr_app.management.users import user_named
from ocr_app.services.uploads import InvalidUpload, clean_language, create_notes

IMAGE_SUFFIXES = {f".{ext}" for ext, _, _ in ACCEPTED_FORMATS.values()} | {".jpeg", ".tif", ".heif"}
# Scanners write PDFs: the worker splits each into a note per page, as for uploads.
SUFFIXES = IMAGE_SUFFIXES | {".pdf"}


class Command(BaseCommand):
    help = "Import every image in DIR as a note of --owner (a PDF: a note per page); the worker recognises them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--owner", required=True, help="User name of the notes' owner.")
        parser.add_argument("--recursive", action="store_true", help="Include sub-folders.")
        parser.add_argument("--language", default=None)
        parser.add_argument(
            "--allow-duplicates", action="store_true",
            help="Import files even when the owner already has a note with the same content.",
        )

    def handle(self, *args, directory: Path, owner: str, recursive: bool, language, allow_duplicates: bool, **options) -> None:
        try:
            language = clean_language(language)
        except InvalidUpload as exc:
            raise CommandError(str(exc)) from exc
        user = user_named(owner)
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder.")
        pattern = "**/*" if recursive else "*"
        files = sorted(p for p in directory.glob(pattern) if p.is_file())
        paths = [p for p in files if p.suffix.lower() in SUFFIXES]
        skipped = [p for p in files if p.suffix.lower() not in SUFFIXES]
        if skipped:
            names = ", ".join(str(p.relative_to(directory)) for p in skipped[:10])
            more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
            self.stderr.write(f"Skipping {len(skipped)} file(s) without an image or PDF extension: {names}{more}")
        if not paths:
            raise CommandError(f"No images or PDFs in {directory}.")

        imported = pdfs = refused = duplicates = 0
        progress = Progress(len(paths), self.stderr)
        for path in paths:
            with path.open("rb") as handle:
                # Importing a folder again (after adding a few scans) adds only the new files.
                [outcome] = create_notes(
                    owner=user, files=[File(handle, name=path.name)], language=language, allow_duplicates=allow_duplicates
                )
            if outcome.code == "duplicate":
                duplicates += 1
            elif outcome.ok and outcome.note.is_pdf:
                pdfs += 1
            elif outcome.ok:
                imported += 1
            else:
                refused += 1
                progress.clear()
                self.stderr.write(f"{path}: {outcome.error}")
            progress.step(path.name)
        progress.finish()
        already = f"; {duplicates} already imported" if duplicates else ""
        split = f" and {pdfs} PDF(s), that the worker splits into a note per page," if pdfs else ""
        self.stdout.write(f"Imported {imported} note(s){split} for {owner}; {refused} file(s) refused{already}.")
