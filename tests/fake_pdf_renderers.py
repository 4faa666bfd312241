"""PDF renderers that misbehave on purpose, in the engine's child process.

They render with PDFium like the real one, then look at the page: a blue page
makes them hang, a red one crash natively (as a PDFium bug would). With
``INKDEX_TEST_KILL_WORKER_AT_PAGE=N`` in the worker's environment, the
renderer kills the worker itself (SIGKILL) when asked for page N.
"""

from __future__ import annotations

import io
import os
import signal
import time

from PIL import Image

from ocr_app.pdf_render import PdfiumRenderer


def page_colour(png: bytes) -> str:
    r, g, b = Image.open(io.BytesIO(png)).convert("RGB").getpixel((0, 0))
    if r > 200 and g < 50 and b < 50:
        return "red"
    if b > 200 and r < 50 and g < 50:
        return "blue"
    return "other"


class MisbehavingRenderer(PdfiumRenderer):
    def render_page(self, path: str, number: int, max_pixels: int) -> bytes:
        if os.environ.get("INKDEX_TEST_KILL_WORKER_AT_PAGE") == str(number):
            os.kill(os.getppid(), signal.SIGKILL)
            time.sleep(3600)  # the worker is gone: closing our stdin ends us
        png = super().render_page(path, number, max_pixels)
        colour = page_colour(png)
        if colour == "blue":
            time.sleep(3600)
        if colour == "red":
            os.abort()  # what a native library's fatal error looks like: SIGABRT
        return png
