"""Recognise image files from the command line, like a command-line OCR tool.

Nothing is stored: this runs the same engine and image preparation as the
worker, directly on the files given.
"""

import json as jsonlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ocr_app.conf import inkdex
from ocr_app.engines import EngineError
from ocr_app.images import InvalidImage, inspect_image, open_upright_rgb
from ocr_app.pipeline.engine_selection import available_engines
from ocr_app.pipeline.recognition import recognize_image
from ocr_app.review_rule import needs_review, review_threshold, stored_confidence


class Command(BaseCommand):
    help = "Print the lines recognised in each image, with confidence and review verdict."

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--json", action="store_true", dest="as_json", help="One JSON document for all files.")
        parser.add_argument("--engine", choices=available_engines(), default=None)
        parser.add_argument("--language", default=inkdex().default_language)
        parser.add_argument(
            "--threshold", type=float, default=review_threshold(),
            help="Confidence (0-100) under which a line is low-confidence, as the worker flags it for review "
            "(default: %(default)s).",
        )

    def handle(self, *args, files, as_json: bool, engine, language, threshold, **options) -> None:
        results, failures = [], 0
        for path in files:
            try:
                with path.open("rb") as handle:
                    inspect_image(handle, path.stat().st_size)
                    image = open_upright_rgb(handle)
                recognition = recognize_image(image, engine_name=engine, language=language)
            except (OSError, InvalidImage, EngineError) as exc:
                failures += 1
                results.append({"file": str(path), "error": str(exc)})
                if not as_json:
                    self.stderr.write(f"{path}: {exc}")
                continue
            lines = []
            for line in recognition.lines:
                confidence = stored_confidence(line.confidence)
                flagged = needs_review(confidence, partial=recognition.partial, threshold=threshold)
                lines.append(
                    {"text": line.text, "confidence": round(confidence, 1), "accepted": not flagged, "box": line.box.as_dict()}
                )
            results.append({"file": str(path), "engine": recognition.engine_version, "lines": lines})
            if not as_json:
                self.stdout.write(self.style.MIGRATE_HEADING(f"{path}"))
                if not lines:
                    self.stdout.write("  (no text found)")
                for line in lines:
                    verdict = "Accepted" if line["accepted"] else "Low-confidence"
                    style = self.style.SUCCESS if line["accepted"] else self.style.WARNING
                    self.stdout.write(f"  {line['confidence']:5.1f}%  {style(verdict.ljust(14))}  {line['text']}")
        if as_json:
            self.stdout.write(_json_dumps(results))
        # Like other command-line tools: any file that could not be read fails the run.
        if failures == len(files):
            raise CommandError("No file could be recognised.")
        if failures:
            raise CommandError(f"{failures} of {len(files)} files could not be recognised.")


def _json_dumps(value) -> str:
    return jsonlib.dumps(value, ensure_ascii=False, indent=2)
