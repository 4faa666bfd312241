"""How much of a page's ink no line covers: a hint that the engine missed writing.

A pure function on the image the engine was given and the line boxes it found.
Ink is a pixel clearly darker than the paper around it (the paper's brightness is
taken locally, so shadows and uneven light are not ink); a thin border is left
out, where page edges and the table under the paper show.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from .base import Box

# The image is measured at most this many pixels on its longer side: enough to
# see handwriting, fast (a few ms) on any photo.
WORK_SIDE = 1000
# How much darker than the surrounding paper (0-255) a pixel must be to be ink.
INK_MARGIN = 50
# Left out on every side, as a share of the side's length.
BORDER = 0.03
# Line boxes are grown by this share of the page's shorter side: strokes just
# outside a tight box (descenders, a crossed t) are the line's own.
BOX_PADDING = 0.01


def unread_ink_share(image: Image.Image, boxes: list[Box]) -> float:
    """The share (0..1) of ``image``'s ink outside every box of ``boxes`` (in the
    image's pixels); 0 on a page without ink."""
    gray = image.convert("L")
    scale = min(1.0, WORK_SIDE / max(gray.size))
    if scale < 1.0:
        gray = gray.resize((max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.BILINEAR)
    pixels = np.asarray(gray, dtype=np.int16)
    ink = pixels < _paper(gray) - INK_MARGIN
    # Lone dark pixels are noise (JPEG, paper grain), not writing.
    ink = np.asarray(Image.fromarray(ink.astype(np.uint8) * 255).filter(ImageFilter.MedianFilter(3))) > 0

    height, width = ink.shape
    border_y, border_x = round(height * BORDER), round(width * BORDER)
    inside = np.zeros_like(ink)
    inside[border_y:height - border_y, border_x:width - border_x] = True
    ink &= inside
    total = int(ink.sum())
    if total == 0:
        return 0.0

    covered = np.zeros_like(ink)
    pad = BOX_PADDING * min(width, height)
    for box in boxes:
        top, left = max(0, int(box.y * scale - pad)), max(0, int(box.x * scale - pad))
        bottom, right = int(np.ceil(box.bottom * scale + pad)), int(np.ceil(box.right * scale + pad))
        covered[top:bottom, left:right] = True
    return round(float((ink & ~covered).sum()) / total, 4)


def _paper(gray: Image.Image) -> np.ndarray:
    """The paper's brightness around each pixel: the brightest of each small
    neighbourhood (ink is thin; the paper around it shows), smoothed."""
    cell = max(1, max(gray.size) // 50)
    coarse = gray.resize((max(1, gray.width // cell), max(1, gray.height // cell)), Image.BOX)
    coarse = coarse.filter(ImageFilter.MaxFilter(3))
    return np.asarray(coarse.resize(gray.size, Image.BILINEAR), dtype=np.int16)
