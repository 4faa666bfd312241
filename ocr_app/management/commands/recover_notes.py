from django.core.management.base import BaseCommand

from ocr_app.pipeline.recovery import recover_stale_notes, recover_stale_splits


class Command(BaseCommand):
    help = "Queue again notes (and PDFs being split) whose worker stopped or whose task was lost (workers do this by themselves)."

    def handle(self, *args, **options) -> None:
        recovered = recover_stale_notes() + recover_stale_splits()
        self.stdout.write(f"Recovered {len(recovered)} note(s){': ' + ', '.join(map(str, recovered)) if recovered else ''}.")
