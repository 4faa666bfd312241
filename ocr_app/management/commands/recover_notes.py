from django.core.management.base import BaseCommand

from ocr_app.services.recognition import recover_stale_notes


class Command(BaseCommand):
    help = "Queue again notes whose worker stopped or whose task was lost (workers do this by themselves)."

    def handle(self, *args, **options) -> None:
        recovered = recover_stale_notes()
        self.stdout.write(f"Recovered {len(recovered)} note(s){': ' + ', '.join(map(str, recovered)) if recovered else ''}.")
