"""Reading, checking and preparing uploaded images with Pillow.

Everything here treats the file as hostile: formats are detected from content
(never from the name), size and pixel count are capped before decoding, and a
decompression bomb is an error rather than Pillow's default warning.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from .conf import inkdex

try:  # HEIC/HEIF, as iPhones save photos.
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - it is a declared dependency
    pillow_heif = None

# Detected format -> (file extension, content type, whether browsers display it).
ACCEPTED_FORMATS: dict[str, tuple[str, str, bool]] = {
    "JPEG": ("jpg", "image/jpeg", True),
    "MPO": ("jpg", "image/jpeg", True),  # multi-picture JPEG from some phones
    "PNG": ("png", "image/png", True),
    "WEBP": ("webp", "image/webp", True),
    "GIF": ("gif", "image/gif", True),
    "BMP": ("bmp", "image/bmp", True),
    "TIFF": ("tiff", "image/tiff", False),
    "HEIF": ("heic", "image/heic", False),
    "AVIF": ("avif", "image/avif", True),
}
# Every browser Inkdex supports shows these in an <img> (web-features: BMP "widely
# available" since 2018, AVIF since 2026-07); until the worker made the JPEG renditions
# the pages show the original of these, and nothing of the others.
BROWSER_DISPLAYABLE_TYPES = frozenset(content_type for _, content_type, shown in ACCEPTED_FORMATS.values() if shown)

# EXIF orientations that turn the picture by 90 degrees.
_SIDEWAYS_ORIENTATIONS = {5, 6, 7, 8}


class InvalidImage(ValueError):
    """The file cannot be used as a note image; ``str(exc)`` says why, for users."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    extension: str
    content_type: str
    width: int  # upright, after EXIF orientation
    height: int


class _KeepOpen(io.RawIOBase):
    """A view of a caller's file that Pillow may 'close' without closing it."""

    def __init__(self, raw) -> None:
        self._raw = raw

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


@contextmanager
def _bomb_guard() -> Iterator[None]:
    """Pillow's decompression-bomb warning as an error, and either as ``InvalidImage``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc


def _open(source) -> Image.Image:
    """Open with Pillow's bomb guard turned from a warning into an error."""
    Image.MAX_IMAGE_PIXELS = inkdex().max_image_pixels
    try:
        with _bomb_guard():
            return Image.open(io.BufferedReader(_KeepOpen(source), buffer_size=1 << 16))
    except UnidentifiedImageError as exc:
        raise InvalidImage(
            "This file is not an image Inkdex can read. Upload a photo or scan "
            "as JPEG, PNG, WEBP, HEIC, TIFF, GIF or BMP."
        ) from exc


def _load(image: Image.Image, damaged: str) -> None:
    """Decode every byte: truncated or corrupt data fails here, as ``InvalidImage(damaged)``
    followed by Pillow's reason in brackets."""
    with _bomb_guard():
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InvalidImage(f"{damaged} ({exc}).") from exc


def _too_many_pixels() -> InvalidImage:
    limit = inkdex().max_image_pixels / 1_000_000
    return InvalidImage(f"This image has too many pixels (the limit is {limit:g} megapixels).")


def check_size(size: int) -> None:
    """Refuse an empty upload or one over the size limit, before reading it."""
    max_bytes = inkdex().max_upload_bytes
    if size == 0:
        raise InvalidImage("This file is empty.")
    if size > max_bytes:
        raise InvalidImage(
            f"This file is too large ({size / 1024 / 1024:.1f} MB; the limit is {max_bytes / 1024 / 1024:g} MB)."
        )


def inspect_image(source, size: int) -> ImageInfo:
    """Check an uploaded file fully and describe it, or raise ``InvalidImage``.

    ``source`` is a binary file object positioned anywhere; it is rewound.
    """
    check_size(size)
    source.seek(0)
    image = _open(source)
    try:
        fmt = image.format or ""
        if fmt not in ACCEPTED_FORMATS:
            raise InvalidImage(f"{fmt or 'This'} images are not supported. Upload JPEG, PNG, WEBP, HEIC or TIFF.")
        width, height = image.size
        if width * height > inkdex().max_image_pixels:
            raise _too_many_pixels()
        if width < 16 or height < 16:
            raise InvalidImage(f"This image is only {width}x{height} pixels; too small to hold any text.")
        if fmt == "JPEG":
            # Decoding at 1/8 scale still reads every byte (truncation is still
            # caught) at half the cost: uploads answer sooner.
            image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
        _load(image, f"This {fmt} file is damaged or incomplete and cannot be read")
        orientation = image.getexif().get(0x0112, 1)
        if orientation in _SIDEWAYS_ORIENTATIONS:
            width, height = height, width
        extension, content_type, _ = ACCEPTED_FORMATS[fmt]
        return ImageInfo(format=fmt, extension=extension, content_type=content_type, width=width, height=height)
    finally:
        image.close()
        source.seek(0)


def open_upright_rgb(source) -> Image.Image:
    """The first frame, turned upright by its EXIF orientation, as RGB on white."""
    image = _open(source)
    _load(image, "The stored image is damaged and cannot be read")
    image = ImageOps.exif_transpose(image)
    return to_rgb(image)


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB for any mode: transparency goes onto white paper, 16-bit is scaled."""
    if image.mode == "RGB":
        return image
    if image.mode in {"I;16", "I;16B", "I;16L", "I"}:
        # 16/32-bit greyscale: scale to 8 bits instead of clipping to white.
        extrema = image.getextrema()
        high = max(1, extrema[1] if isinstance(extrema, tuple) else 255)
        image = image.point(lambda value: value * 255 / high).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in {"RGBA", "LA", "PA"}:
        background = Image.new("RGB", image.size, "white")
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")


def downscale_for_ocr(image: Image.Image, max_pixels: int) -> tuple[Image.Image, float]:
    """The image shrunk to at most ``max_pixels``, and the factor that maps its
    coordinates back to the original (1.0 when it was small enough already)."""
    pixels = image.width * image.height
    if pixels <= max_pixels:
        return image, 1.0
    ratio = (max_pixels / pixels) ** 0.5
    size = (max(1, int(image.width * ratio)), max(1, int(image.height * ratio)))
    return image.resize(size, Image.Resampling.LANCZOS), image.width / size[0]


def make_preview(image: Image.Image, longest_side: int, quality: int = 85) -> bytes:
    """A JPEG of the upright image no longer than ``longest_side`` on either side."""
    preview = image.copy()
    preview.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    preview.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def crop_jpeg(image: Image.Image, box: tuple[int, int, int, int], *, margin: int, max_width: int = 1600) -> bytes:
    """A JPEG of the ``(x, y, width, height)`` region with ``margin`` pixels around it,
    kept inside the image, and no wider than ``max_width``."""
    x, y, width, height = box
    left, top = max(0, x - margin), max(0, y - margin)
    right, bottom = min(image.width, x + width + margin), min(image.height, y + height + margin)
    if right <= left or bottom <= top:
        raise InvalidImage("The region lies outside the image.")
    region = image.crop((left, top, right, bottom))
    if region.width > max_width:
        region = region.resize((max_width, round(region.height * max_width / region.width)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    region.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def is_pdf(source) -> bool:
    """Whether the file is a PDF (by its content: the ``%PDF-`` header near the start).

    Nothing more is read here: PDFs are opened only by the worker, in the
    engine's child process (see ``ocr_app.pdf_render``)."""
    source.seek(0)
    head = source.read(1024)
    source.seek(0)
    return b"%PDF-" in head
