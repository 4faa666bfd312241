import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from ocr_app.management.users import user_named
from ocr_app.search import DATE, MAX_PAGE, RELEVANCE, SORTS
from ocr_app.search.params import search_request
from ocr_app.search.payload import results_payload


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date like 2026-11-24.") from None


class Command(BaseCommand):
    help = "Search one user's notes, as the search page does (the same query language and filters)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("query")
        parser.add_argument("--owner", required=True, help="User name whose notes to search.")
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument("--page", type=int, default=1)
        parser.add_argument("--from", type=_day, dest="from_day", help="Uploaded on or after this day (YYYY-MM-DD).")
        parser.add_argument("--to", type=_day, dest="to_day", help="Uploaded on or before this day (YYYY-MM-DD).")
        parser.add_argument("--review", action="store_true", help="Only notes with lines waiting for review.")
        parser.add_argument("--tag", action="append", default=[],
                            help='Only notes with this tag (repeat for several); also tag:NAME in the query.')
        parser.add_argument("--sort", choices=SORTS, default=RELEVANCE,
                            help=f"{RELEVANCE}: best match first (default); {DATE}: newest upload first.")

    def handle(self, *args, query: str, owner: str, as_json: bool, page: int, from_day, to_day, review: bool,
               sort: str, tag: list[str], **options) -> None:
        user = user_named(owner)
        if not 1 <= page <= MAX_PAGE:
            raise CommandError(f"--page must be between 1 and {MAX_PAGE}.")
        search = search_request(query=query, uploaded_from=from_day, uploaded_to=to_day, needs_review=review, tags=tag,
                                page=page, sort=sort)
        results = search.run(user)
        if as_json:
            self.stdout.write(json.dumps(results_payload(results), ensure_ascii=False, indent=2))
            return
        if not results.notes:
            self.stdout.write("No matching notes.")
            return
        count = f"{results.count}{'+' if results.count_capped else ''} " + (
            "note matches" if results.count == 1 and not results.count_capped else "notes match")
        if results.approximate_count:
            count += f", {results.approximate_count} more approximately"
        self.stderr.write(count)
        for result in results.notes:
            marker = " (approximate)" if result.fuzzy else ""
            name = "" if result.note.title == result.note.file_title else f" ({result.note.file_title})"
            self.stdout.write(self.style.MIGRATE_HEADING(f"#{result.note.pk} {result.note.title}{name}{marker}"))
            for hit in result.lines:
                self.stdout.write(f"  {hit.line.confidence:5.1f}%  {hit.line.text}")
