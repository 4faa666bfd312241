"""The default engine: RapidOCR (PP-OCR models on onnxruntime), fully offline.

The ``rapidocr`` wheel carries its detector, angle classifier and recogniser, so
nothing is downloaded at run time. Loading takes about a second and the models
take several hundred MB, so one instance is kept per process.
"""

from __future__ import annotations

import logging
import threading
from importlib.metadata import version as package_version

from PIL import Image

from .base import Box, EngineError, OcrEngine, Recognition, RecognizedLine, RecognizedWord
from .layout import group_into_lines

logger = logging.getLogger(__name__)


class RapidOcrEngine(OcrEngine):
    name = "rapidocr"

    def __init__(self) -> None:
        self._ocr = None
        self._lock = threading.Lock()

    @property
    def languages(self) -> tuple[str, ...]:
        # The shipped PP-OCRv6 recogniser reads Chinese and the Latin alphabet with
        # its accented letters (é, ü, ñ, ß, ø, å…): one model for all of these.
        return ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "zh")

    @property
    def version(self) -> str:
        return f"rapidocr {package_version('rapidocr')}, onnxruntime {package_version('onnxruntime')}"

    def _load(self):
        with self._lock:
            if self._ocr is None:
                from rapidocr import RapidOCR

                self._ocr = RapidOCR(params={"Global.log_level": "warning"})
                # RapidOCR attaches its own handler at INFO; keep its chatter out
                # of worker logs.
                logging.getLogger("RapidOCR").setLevel(logging.WARNING)
            return self._ocr

    def warm_up(self) -> None:
        self._load()

    def recognize(self, image: Image.Image, language: str = "en") -> Recognition:
        ocr = self._load()
        try:
            output = ocr(image.convert("RGB"), return_word_box=True)
        except Exception as exc:  # the library raises bare exceptions on odd input
            raise EngineError(f"RapidOCR could not read this image: {exc}") from exc

        fragments: list[RecognizedLine] = []
        if output.boxes is not None and output.txts:
            word_results = output.word_results or ((),) * len(output.txts)
            for quad, text, score, words in zip(output.boxes, output.txts, output.scores, word_results):
                text = text.strip()
                if not text:
                    continue
                fragments.append(
                    RecognizedLine(
                        text=text,
                        confidence=round(float(score) * 100, 2),
                        box=Box.around(quad),
                        words=tuple(
                            RecognizedWord(str(w_text), round(float(w_score) * 100, 2), Box.around(w_box))
                            for w_text, w_score, w_box in words
                            if str(w_text).strip()
                        ),
                    )
                )
        return Recognition(
            lines=group_into_lines(fragments),
            engine_name=self.name,
            engine_version=self.version,
        )
