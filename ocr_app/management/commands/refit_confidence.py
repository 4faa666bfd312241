"""Refit the confidence weights on reviewed lines, or go back to the previous ones."""

from django.core.management.base import BaseCommand, CommandError

from ocr_app.engines.confidence import FEATURES
from ocr_app.services.confidence_weights import NothingToRestore, restore_previous_weights
from ocr_app.services.refit import HOLDOUT, MIN_LINES, RefitRefused, refit_confidence


class Command(BaseCommand):
    help = (
        "Refit the weights that turn a line's features into its confidence on the lines people reviewed, "
        "and make them the ones every worker uses, unless they rank the held-out lines worse than the "
        "weights in use. --restore goes back to the weights in use before."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--engine", default="rapidocr", help="Engine whose weights to refit (default: rapidocr).")
        parser.add_argument(
            "--min-lines", type=int, default=MIN_LINES, help=f"Reviewed lines needed at least (default {MIN_LINES})."
        )
        parser.add_argument(
            "--holdout", type=float, default=HOLDOUT, help=f"Share of the lines held out to compare on (default {HOLDOUT})."
        )
        parser.add_argument("--dry-run", action="store_true", help="Fit and report; store nothing.")
        parser.add_argument("--restore", action="store_true", help="Go back to the weights in use before the current ones.")

    def handle(self, *args, engine: str, min_lines: int, holdout: float, dry_run: bool, restore: bool, **options):
        if restore:
            try:
                previous = restore_previous_weights(engine)
            except NothingToRestore as exc:
                raise CommandError(str(exc)) from exc
            if previous is None:
                self.stdout.write(f"The {engine} engine uses the built-in weights again.")
            else:
                self.stdout.write(f"The {engine} engine uses again the weights of {previous.created_at:%Y-%m-%d %H:%M} (set {previous.pk}).")
            return
        try:
            report = refit_confidence(engine, min_lines=min_lines, holdout=holdout, dry_run=dry_run)
        except RefitRefused as exc:
            if exc.report is not None:
                self._describe(exc.report)
            raise CommandError(str(exc)) from exc
        self._describe(report)
        if report.stored is not None:
            self.stdout.write(
                f"Stored as set {report.stored.pk} and made active: every worker uses it from its next image. "
                f"`manage.py refit_confidence --restore` goes back."
            )
        else:
            self.stdout.write("Dry run: nothing stored.")

    def _describe(self, report) -> None:
        write = self.stdout.write
        write(
            f"{report.examples} reviewed lines of the {report.engine_name} engine "
            f"({report.right} right as read, {report.examples - report.right} corrected): "
            f"{report.flagged_reviewed} of {report.flagged_total} lines under the threshold, "
            f"{report.confident_reviewed} of {report.confident_total} at or above it; "
            "each counts as the inverse of its group's share reviewed."
        )
        write(f"Fitted on {report.fitted} lines, compared on {report.held_out} held out.")
        for warning in report.warnings:
            write(f"Warning: {warning}")
        write(f"{'feature':<14}{'in use':>10}{'new':>10}")
        before, after = dict(report.before.weights), dict(report.after.weights) if report.after else {}
        for name in FEATURES:
            write(f"{name:<14}{before[name]:>10.3f}{after.get(name, float('nan')):>10.3f}")
        write(f"{'bias':<14}{report.before.bias:>10.3f}{report.after.bias if report.after else float('nan'):>10.3f}")
        write(f"AUC on the held-out lines: {report.auc_before:.3f} before, {report.auc_after:.3f} after.")
