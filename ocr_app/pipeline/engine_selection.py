"""Which engine reads a note, and built how: Inkdex's settings turned into engines.

The engines themselves (``ocr_app.engines``) never read Django's settings: each
takes plain constructor arguments, and names in ``settings_options`` which of
Inkdex's settings they come from. Engines are named in ``INKDEX["OCR_ENGINES"]``
by the dotted path of their class; one instance of each is kept per process.
"""

from __future__ import annotations

import threading

from django.utils.module_loading import import_string

from ..conf import inkdex
from ..engines import EngineError, OcrEngine
from ..engines.isolated import IsolatedEngine

_instances: dict[tuple[str, bool], OcrEngine] = {}
_lock = threading.Lock()


def engine_classes() -> dict[str, type[OcrEngine]]:
    """The configured engines by name."""
    return {name: import_string(path) for name, path in inkdex().ocr_engines.items()}


def engine_options(engine_class: type[OcrEngine]) -> dict:
    """The keyword arguments ``engine_class`` is built with, from the ``INKDEX`` settings."""
    return {argument: inkdex().option(key) for argument, key in engine_class.settings_options.items()}


def available_engines() -> list[str]:
    """The configured engines whose software is installed."""
    return sorted(
        name for name, engine_class in engine_classes().items() if engine_class.is_available(**engine_options(engine_class))
    )


def get_engine(name: str | None = None, *, isolated: bool | None = None) -> OcrEngine:
    """The engine called ``name`` (default: the configured one), one per process.

    Isolated (the default, setting ``ENGINE_ISOLATION``), it runs in a child
    process of its own, so that a crash or a hang costs one image, not the worker.
    """
    name = name or inkdex().ocr_engine
    isolated = inkdex().engine_isolation if isolated is None else isolated
    with _lock:
        if (name, isolated) not in _instances:
            if name not in inkdex().ocr_engines:
                raise EngineError(f"Unknown OCR engine {name!r}; available: {', '.join(available_engines())}")
            engine_class = engine_classes()[name]
            options = engine_options(engine_class)
            _instances[name, isolated] = (
                IsolatedEngine(engine_class, timeout=inkdex().engine_timeout_seconds, options=options)
                if isolated or engine_class.always_isolated
                else engine_class(**options)
            )
        return _instances[name, isolated]


def engine_languages(name: str | None = None) -> tuple[str, ...]:
    """The languages the engine (default: the configured one) can read."""
    name = name or inkdex().ocr_engine
    engine_class = engine_classes()[name]
    return engine_class(**engine_options(engine_class)).languages
