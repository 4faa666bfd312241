"""Images of handwritten-looking notes for tests and benchmarks, made with Pillow.

The fonts come from Debian packages that ``./inkdex test`` installs
(fonts-dkg-handwriting, fonts-humor-sans, fonts-femkeklaver, fonts-breip).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HANDWRITING_FONTS = {
    "humor": "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    "dkg": "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "femke": "/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf",
    "breip": "/usr/share/fonts/truetype/breip/Breip.ttf",
}
PRINT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

SAMPLE_LINES = [
    "Call the plumber on Monday",
    "Buy milk, eggs and coffee",
    "Dentist appointment at 4pm",
    "Return library books",
    "Pay the electricity bill",
    "Email Sarah about the budget",
    "Water the garden plants",
    "Book train tickets to Lyon",
    "Pick up dry cleaning",
    "Renew passport before June",
]


def font_path(name: str) -> str:
    path = HANDWRITING_FONTS.get(name, name)
    if not Path(path).exists():
        raise FileNotFoundError(
            f"Font {path} is missing. './inkdex test' installs the Debian font packages the tests use."
        )
    return path


@dataclass(frozen=True)
class DrawnLine:
    text: str
    box: tuple[int, int, int, int]  # x, y, width, height of the ink


def render_note(
    lines: list[str],
    *,
    font: str = "dkg",
    size: int = 44,
    width: int = 1100,
    margin: int = 60,
    line_gap: float = 2.3,
    ink: str = "#1b2a5a",
    paper: str = "#fdfcf6",
    ruled: bool = False,
    seed: int = 0,
    blur: float = 0.0,
) -> tuple[Image.Image, list[DrawnLine]]:
    """A note with one text line per entry; returns the image and where each line was drawn."""
    rng = random.Random(seed)
    face = ImageFont.truetype(font_path(font), size)
    step = int(size * line_gap)
    height = margin * 2 + step * len(lines)
    image = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(image)
    if ruled:
        for y in range(margin + int(size * 1.25), height, step):
            draw.line([(0, y), (width, y)], fill="#b9cbe8", width=2)
    drawn = []
    for index, text in enumerate(lines):
        x = margin + rng.randint(0, 20)
        y = margin + index * step + rng.randint(-3, 3)
        draw.text((x, y), text, font=face, fill=ink)
        left, top, right, bottom = draw.textbbox((x, y), text, font=face)
        drawn.append(DrawnLine(text, (left, top, right - left, bottom - top)))
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image, drawn


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        params.setdefault("quality", 90)
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def note_bytes(lines: list[str] | None = None, fmt: str = "JPEG", **kwargs) -> bytes:
    image, _ = render_note(lines or SAMPLE_LINES[:3], **kwargs)
    return encode(image, fmt)


def faint_photo(lines: list[str]) -> Image.Image:
    """A photo of a note in faint pencil (light grey, 30 px letters) on a dark desk,
    lit from one side, blurred, grainy and JPEG-compressed: writing a person reads
    that RapidOCR's detector, looking at the whole photo, finds nothing in."""
    import numpy as np

    note, _ = render_note(lines, ink="#b4b4b4", paper="#f2efe6", size=30, width=900)
    desk = Image.new("RGB", (note.width + 240, note.height + 240), (60, 50, 45))
    desk.paste(note, (120, 120))
    pixels = np.asarray(desk, dtype=np.float32)
    pixels = pixels * np.linspace(1.0, 0.6, pixels.shape[1])[None, :, None]
    pixels += np.random.default_rng(0).normal(0, 18, pixels.shape)
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(2.0))
    return Image.open(io.BytesIO(encode(photo, quality=50))).convert("RGB")
