"""A note's search document: the text that search matches and ranks a note by.

The database keeps one document per note that has lines (the table
``ocr_app_note_text``), rebuilt from the note's lines by triggers whenever a
line is written, however it is written. Its ``text`` is every line's text in
reading order, joined by ``LINE_SEPARATOR``; ``alternatives`` is each line's
other readings (joined by spaces), joined the same way; ``line_ids`` the lines'
ids in the same order; ``title`` the note's title (a trigger on the notes table
keeps it in step too), one more place a query's words may be. The separator is no letter or digit, so to the full-text
indexes the lines run on into each other (a phrase may wrap onto the next line,
as handwriting does), while Python can still tell which line each word is on.
"""

from __future__ import annotations

from dataclasses import dataclass

# ASCII "record separator": never part of a word, never typed. Triggers replace it
# inside line text with a space, so the n-th piece is always the n-th line.
LINE_SEPARATOR = "\x1e"
TABLE = "ocr_app_note_text"


@dataclass(frozen=True)
class NoteDocument:
    note_id: int
    texts: tuple[str, ...]
    alternatives: tuple[str, ...]
    line_ids: tuple[int, ...]
    title: str = ""

    @classmethod
    def from_row(cls, note_id: int, text: str, alternatives: str, line_ids: str, title: str = "") -> "NoteDocument":
        texts = tuple(text.split(LINE_SEPARATOR))
        readings = tuple(alternatives.split(LINE_SEPARATOR))
        return cls(note_id, texts, readings, tuple(map(int, line_ids.split())), title)

    @classmethod
    def from_lines(cls, note_id: int, lines, title: str = "") -> "NoteDocument":
        """The document of lines at hand (in reading order), as the triggers would build it."""
        lines = list(lines)
        return cls(
            note_id,
            tuple(line.text.replace(LINE_SEPARATOR, " ") for line in lines),
            tuple(" ".join(map(str, line.alternatives)).replace(LINE_SEPARATOR, " ") for line in lines),
            tuple(line.pk for line in lines),
            title,
        )

    @property
    def text(self) -> str:
        return LINE_SEPARATOR.join(self.texts)

    @property
    def alternatives_text(self) -> str:
        return LINE_SEPARATOR.join(self.alternatives)
