"""OCR engines behind one interface: an image in, lines out.

Nothing here reads Django's settings (the engine's child process runs without
them): engines take plain constructor arguments, and which engine a note gets,
built with which settings, is the pipeline's choice (``pipeline.engine_selection``).
"""

from __future__ import annotations

from .base import Box, EngineError, OcrEngine, Recognition, RecognizedLine, RecognizedWord

__all__ = ["Box", "EngineError", "OcrEngine", "Recognition", "RecognizedLine", "RecognizedWord"]
