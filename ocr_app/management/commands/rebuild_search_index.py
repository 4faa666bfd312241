from django.core.management.base import BaseCommand, CommandError

from ocr_app.search.index import index_drift, rebuild_search_index
from ocr_app.search.vocabulary import rebuild_vocabulary


class Command(BaseCommand):
    help = "Rebuild the full-text index and every user's vocabulary (for fuzzy search) from the stored lines."

    def handle(self, *args, **options) -> None:
        self.stderr.write("[1/2] Rebuilding the full-text index…")
        rebuild_search_index()
        self.stderr.write("[2/2] Rebuilding the vocabulary for fuzzy search…")
        words = rebuild_vocabulary()
        problem = index_drift()
        if problem:
            raise CommandError(f"The index is still inconsistent: {problem}")
        self.stdout.write(self.style.SUCCESS(f"Search index rebuilt; {words} distinct words."))
