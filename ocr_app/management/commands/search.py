import json

from django.core.management.base import BaseCommand

from ocr_app.management.users import user_named
from ocr_app.search import search_notes
from ocr_app.search_views import results_payload


class Command(BaseCommand):
    help = "Search one user's notes, as the search page does."

    def add_arguments(self, parser) -> None:
        parser.add_argument("query")
        parser.add_argument("--owner", required=True, help="User name whose notes to search.")
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument("--page", type=int, default=1)

    def handle(self, *args, query: str, owner: str, as_json: bool, page: int, **options) -> None:
        user = user_named(owner)
        results = search_notes(user, query, page=page)
        if as_json:
            self.stdout.write(json.dumps(results_payload(results), ensure_ascii=False, indent=2))
            return
        if not results.notes:
            self.stdout.write("No matching notes.")
        for result in results.notes:
            marker = " (approximate)" if result.fuzzy else ""
            self.stdout.write(self.style.MIGRATE_HEADING(f"#{result.note.pk} {result.note.title}{marker}"))
            for hit in result.lines:
                self.stdout.write(f"  {hit.line.confidence:5.1f}%  {hit.line.text}")
