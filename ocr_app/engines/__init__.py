"""OCR engines behind one interface; ``get_engine`` returns the configured one."""

from __future__ import annotations

import threading

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Box, EngineError, OcrEngine, Recognition, RecognizedLine, RecognizedWord
from .isolated import IsolatedEngine

__all__ = [
    "Box",
    "EngineError",
    "OcrEngine",
    "Recognition",
    "RecognizedLine",
    "RecognizedWord",
    "available_engines",
    "engine_languages",
    "get_engine",
]

_instances: dict[tuple[str, bool], OcrEngine] = {}
_lock = threading.Lock()


def _engine_classes() -> dict[str, type[OcrEngine]]:
    return {name: import_string(path) for name, path in settings.INKDEX["OCR_ENGINES"].items()}


def available_engines() -> list[str]:
    """The configured engines whose software is installed."""
    return sorted(name for name, engine_class in _engine_classes().items() if engine_class.is_available())


def get_engine(name: str | None = None, *, isolated: bool | None = None) -> OcrEngine:
    """The engine called ``name`` (default: the configured one), one per process.

    Isolated (the default, setting ``ENGINE_ISOLATION``), it runs in a child
    process of its own, so that a crash or a hang costs one image, not the worker.
    """
    name = name or settings.INKDEX["OCR_ENGINE"]
    isolated = settings.INKDEX["ENGINE_ISOLATION"] if isolated is None else isolated
    with _lock:
        if (name, isolated) not in _instances:
            if name not in settings.INKDEX["OCR_ENGINES"]:
                raise EngineError(f"Unknown OCR engine {name!r}; available: {', '.join(available_engines())}")
            engine_class = _engine_classes()[name]
            options = engine_class.options_from_settings(settings)
            _instances[name, isolated] = (
                IsolatedEngine(engine_class, timeout=settings.INKDEX["ENGINE_TIMEOUT_SECONDS"], options=options)
                if isolated or engine_class.always_isolated
                else engine_class(**options)
            )
        return _instances[name, isolated]


def engine_languages(name: str | None = None) -> tuple[str, ...]:
    """The languages the engine (default: the configured one) can read."""
    name = name or settings.INKDEX["OCR_ENGINE"]
    engine_class = _engine_classes()[name]
    return engine_class(**engine_class.options_from_settings(settings)).languages
