"""Running an engine in a child process of its own.

An OCR engine is native code (onnxruntime, an embedded .NET runtime): on a bad
image it can crash the process or never return. In a child process that costs
one image, not the worker: the child is killed after a timeout, and a new one
is started for the next image. The child loads the engine's models once and
serves image after image.

The child also renders the pages of uploaded PDFs (``render_pdf``): PDFium is
native code reading an untrusted file, so it gets the same protection.

The child speaks length-prefixed pickles over its stdin and stdout (only with
this parent, which started it). Whatever the engine itself prints goes to
stderr, so it cannot corrupt the stream.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
from typing import NoReturn

from PIL import Image

from .base import EngineError, OcrEngine, Recognition

logger = logging.getLogger(__name__)

_HEADER = struct.Struct(">Q")
# Loading an engine's models (before its first image) may take this long.
STARTUP_TIMEOUT_SECONDS = 180.0


class EngineCrashed(EngineError):
    retryable = True


class EngineTimedOut(EngineError):
    # The same image would most likely hang again.
    retryable = False


def _write(stream, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exactly(stream, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read(stream):
    (size,) = _HEADER.unpack(_read_exactly(stream, _HEADER.size))
    return pickle.loads(_read_exactly(stream, size))


class IsolatedEngine(OcrEngine):
    """``engine_class`` run in a child process, with a time limit per image."""

    def __init__(self, engine_class: type[OcrEngine], *, timeout: float, options: dict | None = None) -> None:
        self.engine_class = engine_class
        self.name = engine_class.name
        self.timeout = timeout
        self.options = options or {}
        self._child: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._version: str | None = None

    @property
    def version(self) -> str:
        if self._version is None:
            self._version = self.engine_class(**self.options).version
        return self._version

    @property
    def languages(self) -> tuple[str, ...]:
        return self.engine_class(**self.options).languages

    def _start(self) -> subprocess.Popen:
        path = f"{self.engine_class.__module__}.{self.engine_class.__qualname__}"
        env = {**os.environ, **self.engine_class.child_environment(**self.options)}
        return subprocess.Popen(
            [sys.executable, "-m", "ocr_app.engines.child", path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            # Started from the project folder's interpreter; make the package importable wherever we are.
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        )

    def _ensure_child(self) -> subprocess.Popen:
        """The running child, started (and its models loaded) if need be. Loading
        has its own time limit, so the per-image one measures only recognition."""
        if self._child is not None and self._child.poll() is None:
            return self._child
        self._stop_child()
        child = self._child = self._start()
        try:
            _write(child.stdin, self.options)
        except (BrokenPipeError, OSError):
            self._crashed(child)
        self._reply(child, STARTUP_TIMEOUT_SECONDS, "starting")
        return child

    def _reply(self, child: subprocess.Popen, timeout: float, doing: str):
        """The child's answer, or EngineTimedOut / EngineCrashed / EngineError."""
        deadline = time.monotonic() + timeout
        while not select.select([child.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
            if time.monotonic() >= deadline:
                self._stop_child()
                if doing == "starting":
                    raise EngineTimedOut(f"The {self.name} engine did not start within {timeout:g} seconds.")
                raise EngineTimedOut(
                    f"The {self.name} engine was still {doing} after {timeout:g} seconds and was stopped. "
                    "The image may be unusually complex; try a smaller or clearer photo."
                )
        try:
            kind, payload, retryable = _read(child.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            self._crashed(child)
        if kind == "ok":
            return payload
        if doing == "starting":
            self._stop_child()
        error = EngineError(payload)
        error.retryable = retryable
        raise error

    def stop(self) -> None:
        with self._lock:
            self._stop_child()

    def _stop_child(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if child.poll() is None:
            child.kill()
        child.wait()
        for stream in (child.stdin, child.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def recognize(self, image: Image.Image, language: str = "en", user_words: tuple[str, ...] = ()) -> Recognition:
        image = image.convert("RGB")
        # Plain strings only: the child unpickles what it is sent.
        words = tuple(str(word) for word in user_words)
        request = ("recognize", image.size, image.tobytes(), language, self.calibration, words)
        return self._ask(request, self.timeout, "reading this image")

    def start(self) -> None:
        """Start the child (and load the models) now, so that the time limits
        of the requests that follow measure only their own work."""
        with self._lock:
            self._ensure_child()

    def render_pdf(self, renderer: str, method: str, *args, timeout: float):
        """``renderer().method(*args)`` in the child (``renderer`` is the dotted
        path of a class like ``ocr_app.pdf_render.PdfiumRenderer``), stopped
        after ``timeout`` seconds. Raises EngineTimedOut, EngineCrashed, or
        EngineError with the renderer's message for the PDF's owner."""
        return self._ask(("pdf", renderer, method, args), timeout, "rendering a PDF page")

    def _ask(self, request: tuple, timeout: float, doing: str):
        with self._lock:
            child = self._ensure_child()
            try:
                _write(child.stdin, request)
            except (BrokenPipeError, OSError):
                self._crashed(child)
            return self._reply(child, timeout, doing)

    def _crashed(self, child: subprocess.Popen) -> NoReturn:
        code = child.wait()
        self._stop_child()
        logger.error("The %s engine process died (exit code %s)", self.name, code)
        raise EngineCrashed(
            f"The {self.name} engine crashed while reading this image (exit code {code}). "
            "Inkdex is fine; try again, or try another engine."
        )


def class_at(path: str) -> type:
    """The class at a dotted path, e.g. ``ocr_app.engines.aspose.AsposeEngine``
    (without Django: the child process has no settings)."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def serve(engine_path: str) -> None:
    """The child: build the engine once (with the options the worker sends
    first), then recognise every image sent."""
    # Ctrl+C in a terminal reaches the whole process group; the worker decides
    # when this process ends (it closes our stdin), so a half-read image is not lost.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol owns the real stdout; anything the engine prints goes to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    options = _read(requests)
    try:
        engine = class_at(engine_path)(**options)
        engine.warm_up()
    except EngineError as exc:
        _write(replies, ("error", str(exc), getattr(exc, "retryable", False)))
        return
    _write(replies, ("ok", None, False))
    renderers: dict[str, object] = {}
    while True:
        try:
            kind, *request = _read(requests)
        except EOFError:
            return
        if kind == "pdf":
            _write(replies, _render_pdf(renderers, *request))
            continue
        size, data, language, calibration, user_words = request
        try:
            engine.use_calibration(calibration)
            image = Image.frombytes("RGB", size, data)
            # Only engines that take the owner's words are given them (an engine
            # written before them keeps working).
            extra = {"user_words": user_words} if user_words else {}
            reply = ("ok", engine.recognize(image, language=language, **extra), False)
        except EngineError as exc:
            reply = ("error", str(exc), getattr(exc, "retryable", False))
        except Exception as exc:  # noqa: BLE001 - anything else the engine raises, for the parent to report
            reply = ("error", f"The {engine.name} engine failed on this image ({type(exc).__name__}: {exc}).", False)
        _write(replies, reply)


def _render_pdf(renderers: dict, renderer_path: str, method: str, args: tuple) -> tuple:
    """The child's answer to a PDF request: the renderer's result, its message
    for the owner, or (for anything unexpected) a plain message, the details
    going to stderr, i.e. the worker's log."""
    from ..pdf_render import UnreadablePdf

    try:
        if renderer_path not in renderers:
            renderers[renderer_path] = class_at(renderer_path)()
        return ("ok", getattr(renderers[renderer_path], method)(*args), False)
    except UnreadablePdf as exc:
        return ("error", str(exc), False)
    except Exception:  # noqa: BLE001 - PDFium's errors and any other: logged, not shown
        print(f"Rendering a PDF ({method}) failed:", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return ("error", "Inkdex could not turn this PDF into images; it may be damaged.", False)
