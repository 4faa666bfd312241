"""Engines that misbehave on purpose: a red image makes them crash natively or hang.

On any other image they return one fixed line, so a test can tell that the
engine process came back after the failure.
"""

from __future__ import annotations

import os
import time

from ocr_app.engines.base import Box, OcrEngine, Recognition, RecognizedLine


def is_red(image) -> bool:
    r, g, b = image.getpixel((0, 0))
    return r > 200 and g < 50 and b < 50


class _FakeEngine(OcrEngine):
    version = "test"

    def fixed_reading(self) -> Recognition:
        line = RecognizedLine("engine is alive", 99.0, Box(0, 0, 10, 10))
        return Recognition([line], engine_name=self.name, engine_version=self.version)


class CrashOnRedEngine(_FakeEngine):
    name = "crashes"

    def recognize(self, image, language="en", user_words=()):
        if is_red(image):
            os.abort()  # what a native library's fatal error looks like: SIGABRT
        return self.fixed_reading()


class HangOnRedEngine(_FakeEngine):
    name = "hangs"

    def recognize(self, image, language="en", user_words=()):
        if is_red(image):
            time.sleep(3600)
        return self.fixed_reading()


class RaiseOnRedEngine(_FakeEngine):
    name = "raises"

    def recognize(self, image, language="en", user_words=()):
        if is_red(image):
            raise MemoryError("out of memory in the model")
        return self.fixed_reading()


class SlowToStartEngine(_FakeEngine):
    """Takes far longer to load its models than the time limit for one image."""

    name = "slow-to-start"
    START_SECONDS = 4.0

    def warm_up(self) -> None:
        time.sleep(self.START_SECONDS)

    def recognize(self, image, language="en", user_words=()):
        return self.fixed_reading()


class FixedReadingEngine(_FakeEngine):
    """Reads every image as the same line, at once: for tests about what happens around recognition."""

    name = "fixed"

    def recognize(self, image, language="en", user_words=()):
        return self.fixed_reading()


class RecordingEngine(_FakeEngine):
    """Tells the order in which notes are recognised, and lets a test hold a worker.

    A note's image carries its number in its first pixel (``numbered_image``). The
    engine appends ``number worker-pid`` to ``log`` in the folder named by
    ``INKDEX_TEST_ENGINE_DIR``, then waits until that folder holds ``go-all`` or
    ``go-<worker pid>`` (the worker is this process's parent): a closed gate keeps
    that worker on this note until the test opens it.
    """

    name = "recording"
    DIR_VARIABLE = "INKDEX_TEST_ENGINE_DIR"

    def recognize(self, image, language="en", user_words=()):
        folder = os.environ[self.DIR_VARIABLE]
        number = note_number(image)
        worker = os.getppid()
        with open(os.path.join(folder, "log"), "a") as log:
            log.write(f"{number} {worker}\n")
        while not any(os.path.exists(os.path.join(folder, gate)) for gate in ("go-all", f"go-{worker}")):
            time.sleep(0.02)
        line = RecognizedLine(f"note {number}", 99.0, Box(0, 0, 10, 10))
        return Recognition([line], engine_name=self.name, engine_version=self.version)


def numbered_image(number: int):
    from PIL import Image

    return Image.new("RGB", (32, 32), (number // 256, number % 256, 7))


def note_number(image) -> int:
    r, g, _ = image.getpixel((0, 0))
    return r * 256 + g


class TitleLinesEngine(_FakeEngine):
    """Reads every image as three lines of known confidence (40, 80, 97): which one
    makes the note's title depends on the review threshold."""

    name = "title-lines"
    LINES = [("scribble", 40.0), ("Shopping list", 80.0), ("milk and eggs", 97.0)]

    def recognize(self, image, language="en", user_words=()):
        lines = [RecognizedLine(text, confidence, Box(0, 20 * i, 10, 10))
                 for i, (text, confidence) in enumerate(self.LINES)]
        return Recognition(lines, engine_name=self.name, engine_version=self.version)


class CalibrationReportingEngine(_FakeEngine):
    """Reads every image as one line that says which confidence weights the engine
    got from the worker (``bias`` of the calibration, or ``built-in``), with fixed
    features, and the confidence those weights give them."""

    name = "calibration-reporting"
    FEATURES = (("engine", 0.9), ("engine_nines", 0.25), ("rarest_word", 0.0), ("weakest_uncommon_word", 0.8),
                ("word_alternatives", 0.0), ("alternative_gain", 0.0), ("lexicon_replaced", 0.0),
                ("widest_word", 0.0), ("glued", 0.0))

    def recognize(self, image, language="en", user_words=()):
        from ocr_app.engines.confidence import BUILT_IN

        calibration = self.calibration or BUILT_IN
        said = "built-in" if self.calibration is None else f"bias {self.calibration.bias:g}"
        confidence = calibration.confidence(dict(self.FEATURES))
        line = RecognizedLine(f"weights {said} pid {os.getpid()}", confidence, Box(0, 0, 10, 10), features=self.FEATURES)
        return Recognition([line], engine_name=self.name, engine_version=self.version)


class EchoUserWordsEngine(_FakeEngine):
    """Reads every image as one line made of the owner's words it was given
    (``no words`` when none): shows what travelled to the engine."""

    name = "echo-words"

    def recognize(self, image, language="en", user_words=()):
        text = " ".join(user_words) or "no words"
        return Recognition([RecognizedLine(text, 99.0, Box(0, 0, 10, 10))], engine_name=self.name, engine_version=self.version)


class UnreadInkEngine(_FakeEngine):
    """Reads every image as one line, and says that the share of its ink outside
    that line is the image's red level in hundredths (``unread_ink_image``)."""

    name = "unread-ink"

    def recognize(self, image, language="en", user_words=()):
        reading = self.fixed_reading()
        return Recognition(reading.lines, engine_name=self.name, engine_version=self.version,
                           unread_ink=image.getpixel((0, 0))[0] / 100)


def unread_ink_image(share: float) -> bytes:
    """A JPEG that ``UnreadInkEngine`` reads as having ``share`` of its ink unread."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (round(share * 100), 0, 7)).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


class ProcessReportingEngine(_FakeEngine):
    """Reads every image as one line saying what its process knows: the options it
    was built with (taken from Inkdex's settings, like RapidOCR's) and which Django
    modules are loaded there (``none``: the engine's process runs without Django)."""

    name = "process-reporting"
    settings_options = {"threads": "OCR_THREADS", "rescan": "OCR_RESCAN"}

    def __init__(self, threads: int = 0, rescan: bool = True) -> None:
        self.threads, self.rescan = threads, rescan

    def recognize(self, image, language="en", user_words=()):
        import sys

        django = sorted(name for name in sys.modules if name.split(".")[0] == "django")
        text = f"threads {self.threads} rescan {self.rescan} django {' '.join(django) or 'none'}"
        return Recognition([RecognizedLine(text, 99.0, Box(0, 0, 10, 10))], engine_name=self.name, engine_version=self.version)


class WarningEngine(_FakeEngine):
    """Reads every image as one line and, when the image's first pixel is red
    (``is_red``), says two things about the reading, as Aspose does in trial mode;
    one of them holds markup, which the pages must show as text."""

    name = "warns"
    WARNINGS = ["Ran in <b>trial</b> mode & read only the first lines.", "The license was not accepted."]

    def recognize(self, image, language="en", user_words=()):
        reading = self.fixed_reading()
        warnings = list(self.WARNINGS) if is_red(image) else []
        return Recognition(reading.lines, engine_name=self.name, engine_version=self.version, warnings=warnings)
