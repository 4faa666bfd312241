"""The notes list sorts and filters (``services/listing.py``), keeps its choices across
pages, says clearly what it cannot use, and counts lines for the page's notes only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ocr_app.models import Note, NoteStatus
from ocr_app.services.listing import SORTS, NoteListOptions
from tests.factories import make_note

LIST = reverse("ocr_app:note_list")
START = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def listed(client, query: str = "") -> list[str]:
    response = client.get(LIST + query)
    assert response.status_code == 200
    return [note.original_name for note in response.context["notes"]]


@pytest.fixture
def notes(user, other_user):
    """Alice's notes, one an hour: every status, lines to review, and one with nothing read."""
    made = {}
    for hour, (name, status, texts, review) in enumerate([
        ("plain", NoteStatus.DONE, ["Call the plumber"], ()),
        ("flagged", NoteStatus.DONE, ["Buy milk", "bananas?"], (1,)),
        ("empty page", NoteStatus.DONE, [], ()),
        ("broken", NoteStatus.FAILED, [], ()),
        ("waiting", NoteStatus.QUEUED, [], ()),
        ("reading", NoteStatus.PROCESSING, [], ()),
    ]):
        note = make_note(user, texts or ["x"], name=name, uploaded_at=START + timedelta(hours=hour), review=review)
        if not texts:
            note.lines.all().delete()
        Note.objects.filter(pk=note.pk).update(status=status)
        made[name] = note
    # Bob's notes never show, whatever the filter.
    make_note(other_user, ["Bob's list"], name="bob flagged", uploaded_at=START + timedelta(days=1), review=(0,))
    bob_empty = make_note(other_user, ["x"], name="bob empty", uploaded_at=START + timedelta(days=1))
    bob_empty.lines.all().delete()
    return made


@pytest.mark.django_db
def test_sorts_by_upload_date_either_way_and_by_status(alice_client, notes):
    newest = ["reading", "waiting", "broken", "empty page", "flagged", "plain"]
    assert listed(alice_client) == newest
    assert listed(alice_client, "?sort=-uploaded") == newest
    assert listed(alice_client, "?sort=uploaded") == newest[::-1]
    # Grouped by status, newest first within a status.
    assert listed(alice_client, "?sort=status") == ["empty page", "flagged", "plain", "broken", "reading", "waiting"]
    assert [option.key for option in SORTS] == ["-uploaded", "uploaded", "status", "title"]


@pytest.mark.django_db
def test_sorts_by_title_whatever_the_case(alice_client, notes):
    Note.objects.filter(pk=notes["plain"].pk).update(title="apple pie")
    Note.objects.filter(pk=notes["flagged"].pk).update(title="Banana bread")
    Note.objects.exclude(pk__in=[notes["plain"].pk, notes["flagged"].pk]).update(title="Zucchini")
    # A to Z with capitals among the small letters (not "B" before "a"), newest first on a tie.
    assert listed(alice_client, "?sort=title") == ["plain", "flagged", "reading", "waiting", "broken", "empty page"]


@pytest.mark.django_db
def test_filters_by_status_needs_review_and_nothing_read(alice_client, notes):
    assert listed(alice_client, "?status=failed") == ["broken"]
    assert listed(alice_client, "?status=done&sort=uploaded") == ["plain", "flagged", "empty page"]
    assert listed(alice_client, "?review=1") == ["flagged"]
    # Nothing read: recognised, not a line found (a queued or failed note has none yet either).
    assert listed(alice_client, "?nothing_read=1") == ["empty page"]
    assert listed(alice_client, "?status=done&review=on") == ["flagged"]
    assert listed(alice_client, "?status=failed&review=1") == []
    assert listed(alice_client, "?review=0&nothing_read=false") == listed(alice_client)
    assert list(Note.objects.nothing_read().values_list("original_name", flat=True)) == ["bob empty", "empty page"]


@pytest.mark.django_db
def test_one_note_and_the_list_agree_on_nothing_read(notes):
    """``Note.has_nothing_read`` (pages, API) is the list filter's rule, counted or not, for a PDF too."""
    pdf = make_note(notes["plain"].owner, ["x"], name="scan.pdf")
    pdf.lines.all().delete()
    Note.objects.filter(pk=pdf.pk).update(content_type="application/pdf", status=NoteStatus.DONE)
    by_filter = set(Note.objects.nothing_read().values_list("pk", flat=True))
    for note in Note.objects.all():
        assert note.has_nothing_read() == (note.pk in by_filter), note.original_name
    for note in Note.objects.with_line_counts():
        assert note.has_nothing_read() == (note.pk in by_filter), note.original_name
        assert note.has_nothing_read(line_count=note.line_count) == (note.pk in by_filter)
    assert notes["empty page"].pk in by_filter and pdf.pk not in by_filter


@pytest.mark.django_db
def test_the_form_shows_the_choices_and_an_empty_result_says_so(alice_client, notes):
    page = alice_client.get(LIST + "?status=failed&review=1&sort=uploaded").content.decode()
    assert '<option value="uploaded" selected>Oldest first</option>' in page
    assert '<option value="failed" selected>Failed</option>' in page
    assert 'name="review" value="1" checked' in page and 'name="nothing_read" value="1">' in page
    assert 'value="split"' not in page  # a split PDF is listed as its pages
    assert 'id="no-match"' in page and "No notes yet" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("query, message", [
    ("?sort=<b>size</b>", "Unknown sort order &#x27;&lt;b&gt;size&lt;/b&gt;&#x27;; showing newest first."),
    ("?status=split", "Unknown status &#x27;split&#x27;; showing every status."),
    ("?review=yes", "filter is on (1) or off (0), not &#x27;yes&#x27;."),
])
def test_values_not_offered_are_named_and_left_at_their_default(alice_client, notes, query, message):
    response = alice_client.get(LIST + query)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert b"<b>size" not in response.content
    assert len(response.context["notes"]) == 6


@pytest.mark.django_db
def test_pages_keep_the_sort_and_filters(alice_client, user):
    for i in range(30):
        make_note(user, [f"note {i}"], name=f"n{i:02}", uploaded_at=START + timedelta(minutes=i), review=(0,))
    page = alice_client.get(LIST + "?sort=uploaded&review=1").content.decode()
    assert 'href="?page=2&amp;sort=uploaded&amp;review=1"' in page
    assert listed(alice_client, "?page=2&sort=uploaded&review=1") == [f"n{i:02}" for i in range(24, 30)]
    assert NoteListOptions(sort="status", nothing_read=True).query_string(review=True) == "sort=status&review=1&nothing_read=1"


@pytest.mark.django_db
def test_line_counts_are_made_for_the_page_only(alice_client, user, notes):
    """Counting the list's notes never touches the lines; the counts shown are per note."""
    with CaptureQueriesContext(connection) as few:
        response = alice_client.get(LIST)
    counts = {n.original_name: (n.line_count, n.flagged_count) for n in response.context["notes"]}
    assert counts["flagged"] == (2, 1) and counts["plain"] == (1, 0) and counts["empty page"] == (0, 0)
    assert "2 lines, <strong>1 to review</strong>" in response.content.decode()
    for i in range(30):
        make_note(user, ["one", "two"], name=f"more {i}", uploaded_at=START - timedelta(minutes=i))
    with CaptureQueriesContext(connection) as many:
        alice_client.get(LIST + "?page=2")
    assert len(many) == len(few)
    touching_lines = [q["sql"] for q in many.captured_queries if "ocr_app_line" in q["sql"]]
    # One query counts lines, for the page's notes by id; nothing counts all the matching notes.
    assert len(touching_lines) == 1 and '"note_id" IN (' in touching_lines[0], touching_lines
    assert not [q["sql"] for q in many.captured_queries if 'FROM "ocr_app_note"' in q["sql"] and "COUNT(" in q["sql"]]


@pytest.mark.django_db
@pytest.mark.parametrize("page, shown", [("2", 6), ("x", 24), ("0", 24), ("-3", 24), ("99999999999999999999", 0)])
def test_odd_page_numbers(alice_client, user, page, shown):
    for i in range(30):
        make_note(user, [f"note {i}"], name=f"n{i:02}", uploaded_at=START + timedelta(minutes=i))
    response = alice_client.get(LIST + f"?page={page}&status=done")
    assert response.status_code == 200 and len(response.context["notes"]) == shown
    if not shown:  # past the last page: said so, with the way back
        assert 'No notes on page 100000. <a href="?status=done">First page</a>' in response.content.decode()
