"""The one interface every OCR engine implements: an image in, lines out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from PIL import Image


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in pixels of the image the engine was given."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def area(self) -> int:
        return self.width * self.height

    def shared_area(self, other: "Box") -> int:
        """The area this box and ``other`` have in common (0 when they do not meet)."""
        width = min(self.right, other.right) - max(self.x, other.x)
        height = min(self.bottom, other.bottom) - max(self.y, other.y)
        return width * height if width > 0 and height > 0 else 0

    @classmethod
    def around(cls, points) -> "Box":
        """The smallest box holding every (x, y) point, e.g. a rotated quad."""
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        left, top = max(0, int(min(xs))), max(0, int(min(ys)))
        return cls(left, top, max(1, round(max(xs)) - left), max(1, round(max(ys)) - top))

    @classmethod
    def union(cls, boxes) -> "Box":
        boxes = list(boxes)
        left = min(b.x for b in boxes)
        top = min(b.y for b in boxes)
        return cls(left, top, max(b.right for b in boxes) - left, max(b.bottom for b in boxes) - top)

    def scaled(self, factor: float) -> "Box":
        """This box in an image ``factor`` times the size of this one's."""
        if factor == 1:
            return self
        return Box(
            round(self.x * factor),
            round(self.y * factor),
            max(1, round(self.width * factor)),
            max(1, round(self.height * factor)),
        )

    def as_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


@dataclass(frozen=True)
class RecognizedWord:
    text: str
    confidence: float  # 0-100
    box: Box

    def scaled(self, factor: float) -> "RecognizedWord":
        return RecognizedWord(self.text, self.confidence, self.box.scaled(factor))


@dataclass(frozen=True)
class RecognizedLine:
    text: str
    confidence: float  # 0-100
    box: Box
    words: tuple[RecognizedWord, ...] = ()
    # Other readings of the whole line, best first, where the engine gives them.
    alternatives: tuple[str, ...] = ()
    # What the confidence was computed from (``confidence.FEATURES`` by name), where
    # the engine calibrates it; kept with the line so the weights can be refitted.
    features: tuple[tuple[str, float], ...] = ()

    def scaled(self, factor: float) -> "RecognizedLine":
        return RecognizedLine(
            self.text,
            self.confidence,
            self.box.scaled(factor),
            tuple(word.scaled(factor) for word in self.words),
            self.alternatives,
            self.features,
        )


@dataclass(frozen=True)
class Recognition:
    """What one engine run returned, with what is needed to trust it later."""

    lines: list[RecognizedLine]
    engine_name: str
    engine_version: str
    # True when the engine ran in a restricted (e.g. unlicensed) mode and the
    # text is known to be incomplete.
    partial: bool = False
    warnings: list[str] = field(default_factory=list)
    # Share (0..1) of the page's ink outside every line box (``ink``): writing the
    # engine may have missed. None: the engine cannot tell.
    unread_ink: float | None = None


class EngineError(Exception):
    """The engine could not recognise this image; the message is for users."""


class OcrEngine(ABC):
    """An OCR engine. Implementations load their models once per process."""

    name: str = ""

    @property
    @abstractmethod
    def version(self) -> str: ...

    @property
    def languages(self) -> tuple[str, ...]:
        return ("en",)

    # Engines that must never run inside the worker's own process.
    always_isolated = False

    # Keyword arguments of the constructor that come from Inkdex's settings, each
    # with the ``INKDEX`` key it is read from (by the worker: an engine never reads
    # Django's settings, and its own process has none), e.g. {"threads": "OCR_THREADS"}.
    settings_options: dict[str, str] = {}

    @classmethod
    def is_available(cls, **options) -> bool:
        """Whether what the engine needs is installed (``options``: the
        constructor's, as the engine would be built)."""
        return True

    @classmethod
    def child_environment(cls, **options) -> dict[str, str]:
        """Environment variables the engine's process needs from its start (for
        native libraries that read them only then)."""
        return {}

    # The weights turning a line's features into its confidence (a
    # ``confidence.Calibration``; None: the built-in ones). Engines that do not
    # calibrate their confidences ignore them.
    calibration = None

    def use_calibration(self, calibration) -> None:
        """Weigh the features of the lines of the next images with ``calibration``
        (plain data: the worker reads it from the database, the engine never does)."""
        self.calibration = calibration

    def warm_up(self) -> None:
        """Load the models now rather than on the first image (raises EngineError
        when the engine cannot run here)."""

    @abstractmethod
    def recognize(self, image: Image.Image, language: str = "en", user_words: tuple[str, ...] = ()) -> Recognition:
        """Recognise an RGB image that is already upright; boxes are in its pixels.

        ``user_words``: words the note's owner confirmed on their lines, most used
        first, which an engine with a word list prefers to its general one (others
        may ignore them)."""
