"""Aspose.OCR (``aspose-ocr-python-net``), optional, for owners who hold a license.

It embeds a .NET Core 3.1 runtime, which on Debian 12 needs, from the start of
its process: Debian 11's libssl 1.1 (``./inkdex aspose`` unpacks it into
``.native/libssl1.1``), invariant globalisation, and no diagnostics pipes in
/tmp. Without them the runtime aborts the whole process on its first call, so
this engine always runs in a child process (``isolated``) and refuses to start
when the library is missing.

Unlicensed, Aspose runs in trial mode and returns only the first lines of an
image: such a result is marked partial, so every line goes to review. Its line
confidence is 0 whenever some models are missing (always in trial mode); then a
confidence is estimated from how plausible the text looks (``text_confidence``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from PIL import Image

from .base import Box, EngineError, OcrEngine, Recognition, RecognizedLine
from .confidence import text_confidence

logger = logging.getLogger(__name__)

PACKAGE = "aspose-ocr-python-net"
TRIAL_WARNING = "Trial Licenses"
LIBSSL_FILES = ("libcrypto.so.1.1", "libssl.so.1.1")

def is_installed() -> bool:
    try:
        package_version(PACKAGE)
    except PackageNotFoundError:
        return False
    return True


class AsposeEngine(OcrEngine):
    name = "aspose"
    # Its runtime can abort() the process and peaks above 1 GB on a photo.
    always_isolated = True
    settings_options = {"license_path": "ASPOSE_LICENSE_FILE", "libssl_dir": "ASPOSE_LIBSSL_DIR"}

    def __init__(self, license_path: str = "", libssl_dir: str = "") -> None:
        self.license_path = license_path
        self.libssl_dir = libssl_dir
        self._ocr = None
        self._api = None
        self._licensed = False
        self._license_problem = ""
        self._lock = threading.Lock()

    @classmethod
    def is_available(cls, **options) -> bool:
        return not cls(**options).problems()

    @property
    def languages(self) -> tuple[str, ...]:
        # Offline, only its Latin-script recognition works (other languages download models).
        return ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "fi")

    @property
    def version(self) -> str:
        # No call into .NET here: the worker reads this without starting the runtime.
        try:
            return f"{PACKAGE} {package_version(PACKAGE)}"
        except PackageNotFoundError:
            return f"{PACKAGE} (not installed)"

    @classmethod
    def child_environment(cls, libssl_dir: str = "", **options) -> dict[str, str]:
        env = {"DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1", "COMPlus_EnableDiagnostics": "0"}
        if libssl_dir:
            env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (libssl_dir, os.environ.get("LD_LIBRARY_PATH")) if p)
        return env

    def problems(self) -> list[str]:
        """What keeps this engine from running, in words for the owner (empty: none)."""
        found = []
        if not is_installed():
            found.append(f"the {PACKAGE} package is not installed (pip install '.[aspose]')")
        if not self.libssl_dir or not all(os.path.exists(os.path.join(self.libssl_dir, f)) for f in LIBSSL_FILES):
            found.append(
                f"libssl 1.1 is not in {self.libssl_dir or '(INKDEX_ASPOSE_LIBSSL_DIR is not set)'}; "
                "'./inkdex aspose' puts it in .native/libssl1.1"
            )
        return found

    def _load(self):
        with self._lock:
            if self._api is not None:
                return self._api
            problems = self.problems()
            if problems:
                # Refuse rather than let the .NET runtime abort the process.
                raise EngineError("The Aspose engine is not set up: " + "; ".join(problems) + ".")
            # Read when the runtime starts (the first call, not the import), so
            # setting them here also works outside a child process.
            for key, value in self.child_environment().items():
                os.environ.setdefault(key, value)
            # Loaded by absolute path, the runtime's own dlopen("libssl.so.1.1") finds them.
            for library in LIBSSL_FILES:
                ctypes.CDLL(os.path.join(self.libssl_dir, library), mode=ctypes.RTLD_GLOBAL)
            import aspose.ocr as ocr

            # Some features fetch models from the internet; offline they would block ~15 s.
            ocr.Resources.allow_automatic_downloads(False)
            if self.license_path:
                try:
                    ocr.License().set_license(self.license_path)
                except RuntimeError as exc:
                    self._license_problem = str(exc)
                    logger.error("Aspose did not accept the license %s: %s", self.license_path, exc)
            self._licensed = bool(ocr.License().is_licensed)
            self._ocr = ocr
            self._api = ocr.AsposeOcr()
            return self._api

    def warm_up(self) -> None:
        self._load()

    def recognize(self, image: Image.Image, language: str = "en", user_words: tuple[str, ...] = ()) -> Recognition:
        # Aspose has no word list to prefer the owner's words to: they are not used.
        api = self._load()
        ocr = self._ocr
        image = image.convert("RGB")
        source = ocr.OcrInput(ocr.InputType.SINGLE_IMAGE)
        source.add(image.tobytes(), image.width, image.height, ocr.PixelType.RGB)
        settings = ocr.RecognitionSettings()
        # Both work offline; the handwriting model and layout modes need downloads.
        settings.language = ocr.Language.LATIN
        settings.detect_areas_mode = ocr.DetectAreasMode.UNIVERSAL
        try:
            result = api.recognize(source, settings)[0]
        except RuntimeError as exc:  # every .NET exception arrives as RuntimeError("Proxy error(...)")
            raise EngineError(f"Aspose could not read this image: {exc}") from exc

        engine_warnings = list(dict.fromkeys(str(w) for w in result.warnings))
        trial = not self._licensed or TRIAL_WARNING in engine_warnings
        lines = []
        # The trial banner is in the plain text only, never among the lines.
        for item in result.recognition_lines_result:
            text = " ".join((item.text_in_line or "").split())
            if not text:
                continue
            rect = item.line
            reported = float(item.confidence) * 100
            lines.append(
                RecognizedLine(
                    text=text,
                    confidence=reported if reported > 0 else text_confidence(text),
                    box=Box(max(0, int(rect.x)), max(0, int(rect.y)), max(1, int(rect.width)), max(1, int(rect.height))),
                )
            )
        lines.sort(key=lambda line: (line.box.y + line.box.height / 2, line.box.x))
        warnings = [w for w in engine_warnings if w != TRIAL_WARNING]
        if trial:
            warnings.insert(0, "Aspose ran without a license (trial mode) and read only the first lines of the image.")
        if self._license_problem:
            warnings.append(f"The Aspose license was not accepted: {self._license_problem}")
        return Recognition(lines=lines, engine_name=self.name, engine_version=self.version, partial=trial, warnings=warnings)
