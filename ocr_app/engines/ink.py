"""Where a page's ink is, and how much of it no line covers: writing the engine missed.

Pure functions on the image the engine was given and the line boxes it found.
Ink is a pixel clearly darker than the paper around it (the paper's brightness is
taken locally, so shadows and uneven light are not ink). Only the sheet counts:
in a photo of a sheet on a desk, the desk and the sheet's edge are left out, as
is a thin border of the image, where page edges show on scans, and long thin
strokes such as the shadow along a sheet's edge. A page that is
mostly dark (a blackboard) is measured with light and dark swapped.

The ink map also tells the engine where to look again (``unread_regions``), and
``stretched`` makes faint writing there dark enough for the detector.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageFilter, ImageOps

from .base import Box

# The image is measured at most this many pixels on its longer side: enough to
# see handwriting, fast (a few ms) on any photo.
WORK_SIDE = 1000
# How much darker than the surrounding paper a pixel must be to be ink: a share
# of the paper's brightness (so that faint writing in a shadow counts), and at
# least INK_MARGIN (0-255; less is grain and noise in a dark shadow).
INK_CONTRAST = 0.14
INK_MARGIN = 20
# Specks of fewer pixels than this (at WORK_SIDE) are noise, not writing.
MIN_STROKE = 12
# Left out on every side, as a share of the side's length.
BORDER = 0.03
# Line boxes are grown by this share of the page's shorter side: strokes just
# outside a tight box (descenders, a crossed t) are the line's own.
BOX_PADDING = 0.01
# A page with less than DARK_SHARE of its area brighter than DARK_PAGE (strokes
# averaged away) is light writing on a dark board.
DARK_PAGE = 100
DARK_SHARE = 0.15
# The paper's brightness is estimated on a grid of this many cells along the
# longer side.
PAPER_CELLS = 50
# Not paper, over at least SURROUND_AREA of the image: a desk or a shadow beyond
# the sheet. Ink within SURROUND_REACH (share of the longer side) of it is the
# sheet's edge, not writing.
SURROUND_AREA = 0.02
SURROUND_REACH = 0.01
# A straight horizontal or vertical run of ink this long (share of the longer
# side) is a ruled line, a margin or a fold: handwritten strokes are shorter
# and curved. (Lines at any angle were tried, with a Hough transform: it took
# the baselines of lines of writing too.)
STRAIGHT_LENGTH = 0.05
# One connected stroke at least EDGE_LENGTH of the longer side long that is
# thinner than EDGE_THICKNESS of it, or fills under EDGE_FILL of its box (an L
# along two edges), is an edge, not writing.
EDGE_LENGTH = 0.25
EDGE_THICKNESS = 0.03
EDGE_FILL = 0.05
# Unread ink is grouped into regions by closing gaps of this share of the longer
# side (letters into words, words into lines, lines into blocks); a region with
# less than this share of the page's ink is a speck, not writing.
REGION_GAP = 0.02
REGION_MIN_SHARE = 0.01
# Stretching faint ink: the blur radius (px), and the shares (%) of the darkest
# and brightest pixels that go black and white (tried on the tuning seeds'
# hard notes: 1 of 21 lines missed, against 6 with no blur and 1 % cut-offs).
STRETCH_BLUR = 1.5
STRETCH_CUTOFF = (1, 20)
# Regions are cut out with this margin (share of the longer side) around their
# ink: the detector needs the writing's surroundings to see it as writing.
REGION_MARGIN = 0.08


class InkMap:
    """The ink of one image, measured once, asked about any set of boxes."""

    def __init__(self, image: Image.Image) -> None:
        gray = image.convert("L")
        self.size = gray.size
        self.scale = min(1.0, WORK_SIDE / max(gray.size))
        if self.scale < 1.0:
            gray = gray.resize((max(1, round(gray.width * self.scale)), max(1, round(gray.height * self.scale))), Image.BILINEAR)
        # Measured on the whole page once: a crop of it (see ``stretched``) is read alike.
        self.dark_page = is_dark_page(gray)
        if self.dark_page:
            gray = ImageOps.invert(gray)
        paper = _paper(gray)
        # Slightly blurred: grain and JPEG noise average out, strokes stay.
        pixels = np.asarray(gray.filter(ImageFilter.GaussianBlur(1)), dtype=np.int16)
        ink = pixels < paper - np.maximum(INK_MARGIN, paper * INK_CONTRAST)

        height, width = ink.shape
        border_y, border_x = round(height * BORDER), round(width * BORDER)
        inside = np.zeros_like(ink)
        inside[border_y:height - border_y, border_x:width - border_x] = True
        # Only on paper: where most of the neighbourhood is as bright as the paper
        # (thin strokes do not change its median; a desk or a shadow beside the
        # sheet, which the paper's estimate spills over, does).
        window = 2 * max(1, max(gray.size) // PAPER_CELLS) + 1
        background = cv2.medianBlur(np.asarray(gray), window).astype(np.int16)
        on_paper = background >= paper * (1 - INK_CONTRAST)
        self.ink = _strokes_only(ink & inside & on_paper, _beside_surround(~on_paper))
        self.total = int(self.ink.sum())

    def covered(self, boxes: list[Box]) -> np.ndarray:
        height, width = self.ink.shape
        covered = np.zeros_like(self.ink)
        pad = BOX_PADDING * min(width, height)
        for box in boxes:
            top, left = max(0, int(box.y * self.scale - pad)), max(0, int(box.x * self.scale - pad))
            bottom = int(np.ceil(box.bottom * self.scale + pad))
            right = int(np.ceil(box.right * self.scale + pad))
            covered[top:bottom, left:right] = True
        return covered

    def unread_share(self, boxes: list[Box]) -> float:
        """The share (0..1) of the ink outside every box of ``boxes`` (in the image's
        pixels); 0 on a page without ink."""
        if self.total == 0:
            return 0.0
        return round(float((self.ink & ~self.covered(boxes)).sum()) / self.total, 4)

    def unread_regions(self, boxes: list[Box]) -> list[Box]:
        """Boxes (in the image's pixels, with a margin) around the groups of ink
        outside every box of ``boxes`` that are big enough to be writing."""
        if self.total == 0:
            return []
        unread = (self.ink & ~self.covered(boxes)).astype(np.uint8)
        gap = max(3, round(REGION_GAP * max(unread.shape)))
        joined = cv2.morphologyEx(unread, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, gap)))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        margin = REGION_MARGIN * max(unread.shape)
        regions = []
        for label in range(1, count):
            x, y, w, h = stats[label, :4]
            if int(unread[labels == label].sum()) < REGION_MIN_SHARE * self.total:
                continue
            left, top = max(0.0, (x - margin) / self.scale), max(0.0, (y - margin) / self.scale)
            right = min(float(self.size[0]), (x + w + margin) / self.scale)
            bottom = min(float(self.size[1]), (y + h + margin) / self.scale)
            regions.append(Box(int(left), int(top), max(1, round(right - left)), max(1, round(bottom - top))))
        return regions


def stretched(image: Image.Image, *, dark_page: bool | None = None) -> Image.Image:
    """``image`` in grey, smoothed, divided by its paper's brightness (shadows and
    uneven light gone) and stretched so that its darkest ink is black and most of
    its paper white: faint pencil and washed-out ink become writing the detector
    sees. (Smoothing first, and letting the brightest fifth go white, keep the
    paper's grain from being stretched into specks.) ``dark_page``: whether the page
    ``image`` is cut from is a blackboard (``InkMap.dark_page``); None: measured here."""
    gray = image.convert("L")
    if is_dark_page(gray) if dark_page is None else dark_page:
        gray = ImageOps.invert(gray)
    gray = gray.filter(ImageFilter.GaussianBlur(STRETCH_BLUR))
    paper = np.maximum(_paper(gray), 1).astype(np.float32)
    flat = np.clip(np.asarray(gray, dtype=np.float32) / paper * 255, 0, 255).astype(np.uint8)
    return ImageOps.autocontrast(Image.fromarray(flat), cutoff=STRETCH_CUTOFF).convert("RGB")


def is_dark_page(gray: Image.Image) -> bool:
    """Whether the page is light writing on a dark ground (a blackboard): hardly
    any part of it is bright once thin strokes are averaged away. (A sheet on a
    dark desk is not: the sheet is bright.)"""
    cell = max(1, max(gray.size) // PAPER_CELLS)
    coarse = np.asarray(gray.resize((max(1, gray.width // cell), max(1, gray.height // cell)), Image.BOX))
    return float((coarse >= DARK_PAGE).mean()) < DARK_SHARE


def _paper(gray: Image.Image) -> np.ndarray:
    """The paper's brightness around each pixel: the brightest of each small
    neighbourhood (ink is thin; the paper around it shows), smoothed."""
    cell = max(1, max(gray.size) // PAPER_CELLS)
    coarse = gray.resize((max(1, gray.width // cell), max(1, gray.height // cell)), Image.BOX)
    coarse = coarse.filter(ImageFilter.MaxFilter(3))
    return np.asarray(coarse.resize(gray.size, Image.BILINEAR), dtype=np.int16)


def _beside_surround(off_paper: np.ndarray) -> np.ndarray:
    """Pixels next to a large area that is not paper (a desk, a deep shadow
    beyond the sheet); small ones, such as the inside of bold letters, do not count."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(off_paper.astype(np.uint8), connectivity=8)
    large = [label for label in range(1, count) if stats[label, cv2.CC_STAT_AREA] >= SURROUND_AREA * off_paper.size]
    if not large:
        return np.zeros_like(off_paper)
    reach = max(3, round(SURROUND_REACH * max(off_paper.shape)))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (reach, reach))
    return cv2.dilate(np.isin(labels, large).astype(np.uint8), kernel) > 0


def _strokes_only(ink: np.ndarray, beside_surround: np.ndarray) -> np.ndarray:
    """``ink`` without what is not writing: specks (grain, JPEG noise); strokes
    touching the surround (the ragged shadow along a sheet's edge); straight
    lines (a ruled margin, a fold, a ruler), and long thin or hollow shapes (an
    edge's shadow along two sides)."""
    ink = ink & ~_straight_lines(ink)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    side = max(ink.shape)
    dropped = set(np.unique(labels[ink & beside_surround]).tolist())
    for label in range(1, count):
        width, height, area = stats[label, cv2.CC_STAT_WIDTH], stats[label, cv2.CC_STAT_HEIGHT], stats[label, cv2.CC_STAT_AREA]
        long, short = max(width, height), min(width, height)
        if area < MIN_STROKE or (
            long >= EDGE_LENGTH * side and (short <= EDGE_THICKNESS * side or area <= EDGE_FILL * width * height)
        ):
            dropped.add(label)
    dropped.discard(0)
    if not dropped:
        return ink
    return ink & ~np.isin(labels, sorted(dropped))


def _straight_lines(ink: np.ndarray) -> np.ndarray:
    """Ink on straight horizontal or vertical runs longer than any handwritten
    stroke (thickened a little first, so a slightly tilted or broken line holds)."""
    thick = cv2.dilate(ink.astype(np.uint8), np.ones((3, 3), np.uint8))
    length = max(5, round(STRAIGHT_LENGTH * max(ink.shape)))
    lines = cv2.morphologyEx(thick, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    lines |= cv2.morphologyEx(thick, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    return cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0
