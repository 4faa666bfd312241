"""Carrying people's work on a note's lines over a new recognition.

A reprocess reads the note afresh; the lines people corrected, accepted or added
must not be lost. Each such old line goes onto the new line whose box overlaps it
most, measured against the smaller of the two boxes and at least half of it;
each new line takes at most one old line, best overlap first. An old line no new
line overlaps is kept as it was. A new line over a place where a person deleted
a line (the same overlap rule) is dropped, so deleting noise sticks.

The plan is made by plain functions on boxes; ``store_lines_keeping_corrections``
applies it, inside the transaction in which ``recognition`` stores a result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..engines.base import Box  # the same rectangle the engines give lines
from ..models import DeletedLine, Line, Note
from ..search.vocabulary import forget_words, line_texts, record_words

MIN_OVERLAP = 0.5
# Kept lines move to orders past any real one first: (note, order) is unique.
_ASIDE = 1_000_000_000


def overlap(a: Box, b: Box) -> float:
    """The share of the smaller box that the two boxes have in common (0 to 1);
    0 for a box without area (a line typed without a place on the photo)."""
    smaller = min(a.area, b.area)
    return a.shared_area(b) / smaller if smaller > 0 else 0.0


@dataclass(frozen=True)
class CarryPlan:
    # Old line index -> the new line index it goes onto.
    carried: dict[int, int]
    # Old lines no new line overlaps: kept as they were.
    kept: list[int]
    # New lines dropped because they lie where a person deleted a line.
    suppressed: set[int]


def plan_carry_over(
    old_boxes: Sequence[Box], new_boxes: Sequence[Box], deleted_boxes: Sequence[Box] = ()
) -> CarryPlan:
    """Which new line each of the people's old lines goes onto (see the module)."""
    suppressed = {
        index
        for index, new in enumerate(new_boxes)
        if any(overlap(new, deleted) >= MIN_OVERLAP for deleted in deleted_boxes)
    }
    pairs = [
        (overlap(old, new), old_index, new_index)
        for old_index, old in enumerate(old_boxes)
        for new_index, new in enumerate(new_boxes)
        if new_index not in suppressed
    ]
    # Best overlap first; ties go to the earlier lines, so the plan is always the same.
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    carried: dict[int, int] = {}
    taken: set[int] = set()
    for share, old_index, new_index in pairs:
        if share < MIN_OVERLAP:
            break
        if old_index in carried or new_index in taken:
            continue
        carried[old_index] = new_index
        taken.add(new_index)
    kept = [index for index in range(len(old_boxes)) if index not in carried]
    return CarryPlan(carried=carried, kept=kept, suppressed=suppressed)


def merged_order(new_tops: Sequence[int], kept_tops: Sequence[int]) -> list[tuple[str, int]]:
    """Reading order of the new lines (in the engine's order) with the kept old
    lines put in by their top edge: ``("new", i)`` and ``("kept", j)`` items."""
    order: list[tuple[str, int]] = [("new", i) for i in range(len(new_tops))]
    for j in sorted(range(len(kept_tops)), key=lambda j: kept_tops[j]):
        position = next(
            (p for p, (kind, i) in enumerate(order) if kind == "new" and new_tops[i] > kept_tops[j]), len(order)
        )
        order.insert(position, ("kept", j))
    return order


def _kept_tops(lines: Sequence[Line]) -> list[int]:
    """Where each old line sits for reading order; a line without a box (typed
    without a place) sits just after the boxed line before it."""
    tops, last = [], -1
    for line in lines:
        if line.width and line.height:
            last = line.y
        tops.append(last)
    return tops


def _carry(line: Line, new: Line) -> None:
    """The person's line on the new line's place; the new reading becomes one of its others."""
    readings = [new.text, *new.alternatives, *line.alternatives]
    seen: dict[str, None] = {}
    for text in readings:
        if text and text != line.text:
            seen.setdefault(text)
    line.x, line.y, line.width, line.height = new.x, new.y, new.width, new.height
    line.confidence = new.confidence
    line.alternatives = list(seen)
    # Word boxes belong to the engine's reading; they only fit the line if its text is that.
    line.words = new.words if new.text == line.text else []


def store_lines_keeping_corrections(note: Note, new_rows: list[Line]) -> int:
    """Replace the note's lines with ``new_rows`` (unsaved, in reading order) but keep
    the lines people corrected, accepted or added (see the module); in the caller's
    transaction. Returns how many such lines were kept."""
    old_lines = list(Line.objects.filter(note=note).order_by("order"))
    people = [line for line in old_lines if line.reviewed_at is not None]
    deleted = [record.box for record in DeletedLine.objects.filter(note=note)]
    plan = plan_carry_over([line.box for line in people], [row.box for row in new_rows], deleted)

    forget_words(note.owner_id, line_texts(old_lines))
    Line.objects.filter(note=note, reviewed_at__isnull=True).delete()
    for offset, line in enumerate(people):
        Line.objects.filter(pk=line.pk).update(order=_ASIDE + offset)

    onto = {new_index: people[old_index] for old_index, new_index in plan.carried.items()}
    kept = [people[index] for index in plan.kept]
    all_tops = dict(zip((line.pk for line in people), _kept_tops(people)))
    sequence = merged_order([row.y for row in new_rows], [all_tops[line.pk] for line in kept])

    final: list[Line] = []
    created: list[Line] = []
    for kind, index in sequence:
        if kind == "kept":
            final.append(kept[index])
        elif index in onto:
            _carry(onto[index], new_rows[index])
            final.append(onto[index])
        elif index not in plan.suppressed:
            final.append(new_rows[index])
            created.append(new_rows[index])
    for order, line in enumerate(final):
        line.order = order
    Line.objects.bulk_create(created)
    for line in people:
        line.save(update_fields=["order", "x", "y", "width", "height", "confidence", "alternatives", "words"])
    record_words(note.owner_id, line_texts(final))
    return len(people)
