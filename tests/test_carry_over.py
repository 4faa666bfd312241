"""Owners' own corrections survive a reprocess: the carry-over plan on boxes, and
the real store of a recognition (the same transaction the worker uses)."""

from __future__ import annotations

import pytest

from ocr_app.engines.base import Box as EngineBox
from ocr_app.engines.base import Recognition, RecognizedLine
from ocr_app.models import DeletedLine, Line, Note, NoteStatus, ReviewAction, ReviewEvent
from ocr_app.pipeline import recognition, tasks
from ocr_app.pipeline.claims import claim_note
from ocr_app.search import search_notes
from ocr_app.services import owner_edits
from ocr_app.services.carry_over import Box, merged_order, overlap, plan_carry_over
from tests.factories import make_note

# --- the plan, on boxes ---------------------------------------------------------------------


def test_overlap_is_measured_against_the_smaller_box():
    big, small = Box(0, 0, 100, 100), Box(50, 0, 100, 10)
    assert overlap(big, small) == pytest.approx(0.5)
    assert overlap(small, big) == pytest.approx(0.5)
    assert overlap(Box(0, 0, 10, 10), Box(20, 20, 10, 10)) == 0.0
    assert overlap(Box(0, 0, 0, 0), Box(0, 0, 10, 10)) == 0.0  # a typed line without a place


def test_each_old_line_goes_onto_the_new_line_it_overlaps_most():
    old = [Box(0, 0, 100, 20), Box(0, 40, 100, 20)]
    new = [Box(2, 42, 100, 20), Box(3, 1, 100, 20), Box(0, 80, 100, 20)]
    plan = plan_carry_over(old, new)
    assert plan.carried == {0: 1, 1: 0}
    assert plan.kept == []


def test_less_than_half_of_the_smaller_box_is_no_match_and_the_line_is_kept():
    old = [Box(0, 0, 100, 20)]
    assert plan_carry_over(old, [Box(0, 11, 100, 20)]).kept == [0]  # 9 of 20 rows shared
    assert plan_carry_over(old, [Box(0, 10, 100, 20)]).carried == {0: 0}  # exactly half


def test_a_new_line_takes_at_most_one_old_line_best_overlap_first():
    # Two old lines over one new line: the better overlapping one gets it, the other is kept.
    old = [Box(0, 0, 100, 20), Box(0, 8, 100, 20)]
    new = [Box(0, 7, 100, 20)]
    plan = plan_carry_over(old, new)
    assert plan.carried == {1: 0}
    assert plan.kept == [0]


def test_new_lines_where_a_line_was_deleted_are_dropped():
    deleted = [Box(0, 100, 50, 20)]
    new = [Box(0, 0, 100, 20), Box(5, 102, 40, 18), Box(0, 300, 100, 20)]
    plan = plan_carry_over([], new, deleted)
    assert plan.suppressed == {1}


def test_kept_lines_take_their_place_in_reading_order():
    assert merged_order([0, 100, 200], [150, -1, 150]) == [
        ("kept", 1), ("new", 0), ("new", 1), ("kept", 0), ("kept", 2), ("new", 2),
    ]


# --- the store of a real recognition -------------------------------------------------------------


def found(user, query: str) -> list[Note]:
    """The notes a search finds by exact words (not approximate matches)."""
    return [r.note for r in search_notes(user, query).notes if not r.fuzzy]


def reading(*lines) -> Recognition:
    """What an engine returns: (text, (x, y, width, height)) per line."""
    return Recognition(
        [RecognizedLine(text, 90.0, EngineBox(*box)) for text, box in lines], engine_name="rapidocr", engine_version="t"
    )


def recognise_again(note: Note, result: Recognition) -> Note:
    """Reprocess the note and store ``result`` as the worker does (claim, then store)."""
    tasks.request_recognition(note)
    token = claim_note(note.pk)
    assert token
    assert recognition._store(Note.objects.get(pk=note.pk), token, result, 0.1)
    return Note.objects.get(pk=note.pk)


@pytest.fixture
def shopping(user):
    return make_note(
        user, ["COSTCO LIST", "3 bananss", "bread", "smudge"],
        boxes=[(10, 10, 400, 60), (10, 110, 300, 60), (10, 210, 200, 60), (600, 300, 50, 50)],
    )


@pytest.mark.django_db
def test_before_the_fix_a_reprocess_would_lose_a_correction_now_it_is_carried_over(user, shopping):
    line = shopping.lines.get(order=1)
    owner_edits.correct_own_line(line_id=line.pk, owner=user, text="3 bananas")
    note = recognise_again(shopping, reading(
        ("COSTCO LIST", (12, 12, 400, 58)), ("3 banaras", (14, 108, 310, 62)), ("bread", (10, 212, 200, 60)),
    ))
    lines = list(note.lines.order_by("order"))
    assert [li.text for li in lines] == ["COSTCO LIST", "3 bananas", "bread"]
    carried = lines[1]
    assert carried.pk == line.pk  # the same line: its history stays with it
    assert (carried.x, carried.y, carried.width, carried.height) == (14, 108, 310, 62)
    assert carried.reviewed_by == user and not carried.needs_review and carried.is_corrected
    assert "3 banaras" in carried.alternatives
    assert [e.action for e in carried.events.all()] == [ReviewAction.CORRECT]
    assert note.carried_corrections == 1
    # Searchable at once, by the person's text and by the engine's new reading.
    assert [n.pk for n in found(user, "bananas")] == [note.pk]
    assert [n.pk for n in found(user, "banaras")] == [note.pk]


@pytest.mark.django_db
def test_a_corrected_line_nothing_overlaps_is_kept_and_deleted_lines_are_not_brought_back(user, shopping):
    owner_edits.correct_own_line(line_id=shopping.lines.get(order=2).pk, owner=user, text="brown bread")
    owner_edits.delete_own_line(line_id=shopping.lines.get(order=3).pk, owner=user)
    note = recognise_again(shopping, reading(
        ("COSTCO LIST", (10, 10, 400, 60)), ("smvdge", (602, 305, 45, 45)), ("3 bananas", (10, 110, 300, 60)),
    ))
    texts = [li.text for li in note.lines.order_by("order")]
    # The engine saw nothing at the bread line; the person's line stays, after the lines above it.
    assert texts == ["COSTCO LIST", "3 bananas", "brown bread"] or texts == ["COSTCO LIST", "brown bread", "3 bananas"]
    assert "smvdge" not in texts
    assert DeletedLine.objects.filter(note=note).count() == 1
    assert note.carried_corrections == 1
    assert not found(user, "smvdge")


@pytest.mark.django_db
def test_accepted_and_added_lines_are_carried_too_and_unreviewed_lines_are_replaced(user, shopping):
    owner_edits.correct_own_line(line_id=shopping.lines.get(order=0).pk, owner=user, text="COSTCO LIST")  # accepted as read
    added = owner_edits.add_own_line(note_id=shopping.pk, owner=user, text="eggs")  # no box
    note = recognise_again(shopping, reading(("COSTC0 LIST", (10, 10, 400, 60)), ("3 bananas", (10, 110, 300, 60))))
    lines = list(note.lines.order_by("order"))
    assert [li.text for li in lines][:1] == ["COSTCO LIST"]
    assert "eggs" in [li.text for li in lines] and "bread" not in [li.text for li in lines]
    assert Line.objects.get(pk=added.pk).is_added
    assert note.carried_corrections == 2
    assert ReviewEvent.objects.filter(note=note, action=ReviewAction.ADD).count() == 1


@pytest.mark.django_db
def test_a_note_without_corrections_is_replaced_as_before(user, shopping):
    note = recognise_again(shopping, reading(("just one", (0, 0, 50, 20))))
    assert [li.text for li in note.lines.all()] == ["just one"]
    assert note.carried_corrections == 0 and note.status == NoteStatus.DONE
