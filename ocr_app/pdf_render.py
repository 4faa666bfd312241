"""Turning the pages of a PDF into images, with PDFium.

This runs only in the engine's child process (see ``engines.isolated``), never
in a web request or the worker itself: PDFium is native code reading an
untrusted file, so a crash or a hang costs only the child, which the worker
stops and restarts. Django's settings are not available here; the worker passes
what is needed.
"""

from __future__ import annotations

import io

# Pages are rendered at this resolution, then scaled down to the pixel limit.
PDF_DPI = 200


class UnreadablePdf(ValueError):
    """The PDF cannot be used; ``str(exc)`` says why, for its owner."""


class PdfiumRenderer:
    """Page count and page images of a PDF file on local disk."""

    def _open(self, path: str):
        import pypdfium2 as pdfium

        try:
            return pdfium.PdfDocument(path)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise UnreadablePdf(
                    "This PDF is protected by a password; save an unprotected copy and upload that."
                ) from exc
            raise UnreadablePdf("This PDF is damaged or incomplete and cannot be read.") from exc

    def page_count(self, path: str) -> int:
        document = self._open(path)
        try:
            return len(document)
        finally:
            document.close()

    def render_page(self, path: str, number: int, max_pixels: int) -> bytes:
        """Page ``number`` (1-based) as a PNG at 200 dpi, scaled down to at most ``max_pixels``."""
        document = self._open(path)
        try:
            page = document[number - 1]
            try:
                width, height = page.get_size()  # points, 1/72 inch
                if width <= 0 or height <= 0:
                    raise UnreadablePdf(f"Page {number} of this PDF has no area and cannot be read.")
                scale = PDF_DPI / 72
                pixels = width * height * scale * scale
                if pixels > max_pixels:
                    scale *= (max_pixels / pixels) ** 0.5
                image = page.render(scale=scale).to_pil().convert("RGB")
            finally:
                page.close()
        finally:
            document.close()
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=False, compress_level=3)
        return buffer.getvalue()
