"""OCR engines behind one interface; ``get_engine`` returns the configured one."""

from __future__ import annotations

import threading

from django.conf import settings

from .base import Box, EngineError, OcrEngine, Recognition, RecognizedLine, RecognizedWord

__all__ = [
    "Box",
    "EngineError",
    "OcrEngine",
    "Recognition",
    "RecognizedLine",
    "RecognizedWord",
    "available_engines",
    "get_engine",
]

_instances: dict[str, OcrEngine] = {}
_lock = threading.Lock()


def _engine_classes() -> dict[str, type[OcrEngine]]:
    from .rapidocr_engine import RapidOcrEngine

    return {RapidOcrEngine.name: RapidOcrEngine}


def available_engines() -> list[str]:
    return sorted(_engine_classes())


def get_engine(name: str | None = None) -> OcrEngine:
    """The engine called ``name`` (default: the configured one), one per process."""
    name = name or settings.INKDEX["OCR_ENGINE"]
    with _lock:
        if name not in _instances:
            classes = _engine_classes()
            if name not in classes:
                raise EngineError(f"Unknown OCR engine {name!r}; available: {', '.join(sorted(classes))}")
            _instances[name] = classes[name]()
        return _instances[name]
