from django.core.management.base import BaseCommand, CommandError

from ocr_app.management.progress import Progress
from ocr_app.models import Word
from ocr_app.search.index import index_drift, rebuild_search_index
from ocr_app.search.vocabulary import rebuild_owner_vocabulary, vocabulary_owners


class Command(BaseCommand):
    help = "Rebuild the full-text index and every user's vocabulary (for fuzzy search) from the stored lines."

    def handle(self, *args, **options) -> None:
        self.stderr.write("Rebuilding the full-text index…")
        rebuild_search_index()
        owners = vocabulary_owners()
        self.stderr.write(f"Rebuilding the word lists of {len(owners)} user(s) for fuzzy search and suggestions…")
        words = 0
        progress = Progress(len(owners), self.stderr)
        for owner in owners:
            words += rebuild_owner_vocabulary(owner)
            progress.step(f"user {owner}")
        progress.finish()
        Word.objects.exclude(owner_id__in=owners).delete()
        problem = index_drift()
        if problem:
            raise CommandError(f"The index is still inconsistent: {problem}")
        self.stdout.write(self.style.SUCCESS(f"Search index rebuilt; {words} distinct words."))
