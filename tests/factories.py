"""Notes and lines made directly in the database (no OCR), for tests whose
expected results must be known exactly."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timezone

from django.core.files.base import ContentFile
from PIL import Image

from ocr_app.models import Line, Note
from ocr_app.review_rule import needs_review
from ocr_app.search.vocabulary import record_words
from ocr_app.services.titles import update_automatic_title

LINE_STEP = 100


def make_note(
    owner, texts, *, name=None, uploaded_at=None, alternatives=None, review=(), confidences=None,
    image: bytes | None = None, width=1000, engine="rapidocr", boxes=None,
):
    """A recognised note of ``owner`` holding ``texts``, one line each.

    Lines listed in ``review`` get confidence 50 and the review flag; others 95,
    unless ``confidences`` gives each line's (then flagged as recognition flags them,
    and those in ``review`` too). With ``image`` the note stores
    those bytes as its image (a JPEG). Lines sit ``LINE_STEP`` pixels apart, their
    words on a grid, unless ``boxes`` gives each line's (x, y, width, height); then
    each word's box is its share of the line's, by its place among the characters.
    """
    words = [_grid_words(text, i) for i, text in enumerate(texts)]
    if boxes:
        words = [_words_in_box(text, box) for text, box in zip(texts, boxes)]
    boxes = boxes or [(10, 10 + LINE_STEP * i, width - 100, 60) for i in range(len(texts))]
    height = LINE_STEP * len(texts) + 20
    if image is not None:
        with Image.open(io.BytesIO(image)) as stored:
            width, height = stored.size
    confidences = confidences or [50.0 if i in review else 95.0 for i in range(len(texts))]
    note = Note(
        owner=owner, original_name=name or texts[0][:30],
        sha256=hashlib.sha256(image).hexdigest() if image is not None else "0" * 64,
        size_bytes=len(image or b"x"), width=width, height=height, image_format="JPEG",
        content_type="image/jpeg", status="done", engine_name=engine,
        uploaded_at=uploaded_at or datetime(2026, 11, 1, tzinfo=timezone.utc),
    )
    if image is None:
        note.image.name = f"notes/{owner.pk}/x.jpg"
    else:
        note.image.save("note.jpg", ContentFile(image), save=False)
    note.save()
    lines = Line.objects.bulk_create(
        Line(note=note, owner=owner, order=i, text=text, ocr_text=text, confidence=confidences[i],
             x=boxes[i][0], y=boxes[i][1], width=boxes[i][2], height=boxes[i][3],
             needs_review=needs_review(confidences[i]) or i in review,
             words=words[i],
             alternatives=(alternatives or {}).get(i, []))
        for i, text in enumerate(texts)
    )
    record_words(owner.pk, texts + [a for alts in (alternatives or {}).values() for a in alts])
    update_automatic_title(note, lines)  # as recognition would title it
    return note


def _grid_words(text: str, line: int) -> list[dict]:
    return [{"text": w, "confidence": 95.0, "box": {"x": 10 + 80 * j, "y": 10 + LINE_STEP * line, "width": 70, "height": 60}}
            for j, w in enumerate(text.split())]


def _words_in_box(text: str, box) -> list[dict]:
    x, y, width, height = box
    per_character = width / max(len(text), 1)
    found, start = [], 0
    for word in text.split():
        start = text.index(word, start)
        found.append({"text": word, "confidence": 95.0, "box": {
            "x": round(x + start * per_character), "y": y, "width": round(len(word) * per_character), "height": height}})
        start += len(word)
    return found
