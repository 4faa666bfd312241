"""Grouping an engine's text boxes into lines in reading order.

Engines such as RapidOCR return one box per run of text they detected, not one
per line: two columns of a to-do list, or a line split by a wide gap, come back
as separate boxes. A person reads a note line by line, top to bottom, left to
right, so boxes that sit on the same baseline band and are close enough are
joined into one line.
"""

from __future__ import annotations

from statistics import median

from .base import Box, RecognizedLine, RecognizedWord

# Two boxes are on the same line when their vertical overlap is at least this
# share of the shorter box's height.
SAME_LINE_OVERLAP = 0.5
# The boxes of a tilted photo's lines are taller than the writing, so the lines
# overlap vertically; two boxes are still lines one above the other when they
# overlap horizontally by more than this share of the narrower one and their
# centres are more than this share of the shorter one's height apart vertically.
# (Words of one line overlap horizontally too when boxes are loose, but their
# centres are close.)
STACKED_HORIZONTAL_OVERLAP = 0.3
STACKED_CENTRE_OFFSET = 0.5
# Boxes further apart than this many line heights stay separate lines (columns).
MAX_GAP_IN_LINE_HEIGHTS = 2.5


def _vertical_overlap(a: Box, b: Box) -> float:
    overlap = min(a.bottom, b.bottom) - max(a.y, b.y)
    return max(0, overlap) / max(1, min(a.height, b.height))


def _horizontal_overlap(a: Box, b: Box) -> float:
    overlap = min(a.right, b.right) - max(a.x, b.x)
    return max(0, overlap) / max(1, min(a.width, b.width))


def _stacked(a: Box, b: Box) -> bool:
    """One box above the other, though they may overlap vertically."""
    offset = abs((a.y + a.height / 2) - (b.y + b.height / 2))
    return (
        _horizontal_overlap(a, b) > STACKED_HORIZONTAL_OVERLAP
        and offset > STACKED_CENTRE_OFFSET * min(a.height, b.height)
    )


def _fits_row(row: list[RecognizedLine], fragment: RecognizedLine) -> bool:
    if any(_stacked(f.box, fragment.box) for f in row):
        return False
    return _vertical_overlap(row[-1].box, fragment.box) >= SAME_LINE_OVERLAP or (
        len(row) > 1 and _vertical_overlap(Box.union(f.box for f in row), fragment.box) >= SAME_LINE_OVERLAP
    )


def group_into_lines(fragments: list[RecognizedLine]) -> list[RecognizedLine]:
    """Join fragments that share a line; return the lines in reading order."""
    rows: list[list[RecognizedLine]] = []
    for fragment in sorted(fragments, key=lambda f: (f.box.y + f.box.height / 2, f.box.x)):
        for row in rows:
            if _fits_row(row, fragment):
                row.append(fragment)
                break
        else:
            rows.append([fragment])

    lines: list[RecognizedLine] = []
    for row in rows:
        row.sort(key=lambda f: f.box.x)
        height = median(f.box.height for f in row)
        segment = [row[0]]
        for fragment in row[1:]:
            gap = fragment.box.x - segment[-1].box.right
            if gap > MAX_GAP_IN_LINE_HEIGHTS * height:
                lines.append(_join(segment))
                segment = [fragment]
            else:
                segment.append(fragment)
        lines.append(_join(segment))
    lines.sort(key=lambda line: (line.box.y, line.box.x))
    return _reading_order(lines)


def _reading_order(lines: list[RecognizedLine]) -> list[RecognizedLine]:
    """Top to bottom; lines whose bands overlap are read left to right."""
    ordered: list[RecognizedLine] = []
    remaining = sorted(lines, key=lambda line: line.box.y + line.box.height / 2)
    while remaining:
        first = remaining.pop(0)
        band = [first] + [
            line
            for line in remaining
            if _vertical_overlap(first.box, line.box) >= SAME_LINE_OVERLAP
            and not _stacked(first.box, line.box)
        ]
        for line in band[1:]:
            remaining.remove(line)
        ordered.extend(sorted(band, key=lambda line: line.box.x))
    return ordered


def _join(fragments: list[RecognizedLine]) -> RecognizedLine:
    if len(fragments) == 1:
        return fragments[0]
    words: list[RecognizedWord] = []
    for fragment in fragments:
        words.extend(fragment.words)
    # Confidence of the joined line: each fragment weighs by its length, so one
    # long well-read fragment is not dragged down by a stray short one, or
    # vice versa.
    total = sum(max(1, len(f.text)) for f in fragments)
    confidence = sum(f.confidence * max(1, len(f.text)) for f in fragments) / total
    return RecognizedLine(
        text=" ".join(f.text for f in fragments),
        confidence=round(confidence, 2),
        box=Box.union(f.box for f in fragments),
        words=tuple(words),
    )
