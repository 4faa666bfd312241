"""A seeded generator of realistic photos of handwritten notes, with their ground truth.

    make_note(seed, tier) -> (PIL.Image, [ground-truth line, ...])
    draw_note(seed, tier) -> DrawnNote  (the same image and lines, plus where each line is)

Everything is decided by ``random.Random(f"{seed}/{tier}")`` (and a NumPy generator seeded
from it), so one seed and tier always give the same image, byte for byte.

What a note looks like:

* text: a to-do list, meeting notes, a shopping list or a mix, 5-10 lines, with dates,
  times, amounts, phone numbers and people's names (``_note_text``);
* handwriting-style fonts from Debian packages (fonts-dkg-handwriting, fonts-humor-sans,
  fonts-femkeklaver, fonts-breip), one per note; each word on its own jittered baseline,
  size and spacing, each line with its own slant, tilt and indent;
* paper: blank, ruled (blue rules, sometimes a red margin) or squared, with a slight tint
  and texture; ink: blue or black ballpoint, felt pen, red/green, or pencil (grey, faint,
  grainy);
* the photo: the sheet on a desk, rotated a few degrees and seen in perspective; uneven
  light, a soft shadow, blur, sensor noise, a smaller resolution and JPEG compression.

Tiers ``clean`` / ``typical`` / ``hard`` scale the photo effects (``TIERS``).
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONTS = {
    "dkg": "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "humor": "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    "femke": "/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf",
    "breip": "/usr/share/fonts/truetype/breip/Breip.ttf",
}
# Each font's size (px) that writes letters about as tall as the others at 1.0.
FONT_SCALE = {"dkg": 1.0, "humor": 0.9, "femke": 1.0, "breip": 1.15}

TIERS = ("clean", "typical", "hard")


@dataclass(frozen=True)
class Tier:
    """Ranges (low, high) the photo effects are drawn from."""

    size: tuple[float, float]  # font size in px in the final photo (drawn larger, then scaled down)
    word_jitter: float  # baseline wobble per word, share of the size
    word_gap: tuple[float, float]  # space between words, in the font's space widths
    slant: tuple[float, float]  # shear of each line (|tan|)
    line_tilt: float  # degrees, each line on its own
    rotation: float  # degrees, the whole sheet
    perspective: float  # share of the side the corners move
    light: tuple[float, float]  # darkest share of the light across the sheet
    shadow: float  # chance of a shadow
    shadow_depth: tuple[float, float]
    blur: tuple[float, float]  # Gaussian radius, px of the final photo
    noise: tuple[float, float]  # sigma, grey levels
    scale: tuple[float, float]  # final size / drawn size
    jpeg: tuple[int, int]
    pencil: float  # chance of pencil
    faint: tuple[float, float]  # ink opacity


# The same spread of writing sizes in every tier: RapidOCR drops the spaces between words
# when letters are large (tuning found that out), so size is not left to the tiers' effects.
LETTER_PX = (30.0, 60.0)

TIER_SETTINGS = {
    "clean": Tier(
        size=LETTER_PX, word_jitter=0.02, word_gap=(1.2, 1.7), slant=(0.0, 0.08), line_tilt=0.3, rotation=0.5, perspective=0.0,
        light=(0.95, 1.0), shadow=0.0, shadow_depth=(0.9, 0.9), blur=(0.0, 0.4), noise=(0.0, 2.0),
        scale=(0.95, 1.0), jpeg=(90, 95), pencil=0.0, faint=(0.95, 1.0),
    ),
    "typical": Tier(
        size=LETTER_PX, word_jitter=0.06, word_gap=(0.8, 1.5), slant=(0.05, 0.3), line_tilt=1.2, rotation=3.0,
        perspective=0.05, light=(0.5, 0.8), shadow=0.5, shadow_depth=(0.55, 0.8), blur=(1.2, 2.0),
        noise=(6.0, 12.0), scale=(0.6, 0.85), jpeg=(40, 70), pencil=0.3, faint=(0.65, 0.9),
    ),
    "hard": Tier(
        size=LETTER_PX, word_jitter=0.08, word_gap=(0.8, 1.5), slant=(0.05, 0.35), line_tilt=2.2, rotation=6.0, perspective=0.08,
        light=(0.4, 0.7), shadow=0.8, shadow_depth=(0.45, 0.7), blur=(1.5, 2.4), noise=(8.0, 16.0),
        scale=(0.55, 0.75), jpeg=(30, 55), pencil=0.35, faint=(0.5, 0.85),
    ),
}

INKS = {
    "blue ballpoint": (28, 45, 120),
    "dark blue": (20, 30, 80),
    "black": (25, 25, 30),
    "felt black": (10, 10, 12),
    "red": (170, 30, 35),
    "green": (25, 100, 50),
}
PENCIL = (70, 70, 75)
PAPERS = [(253, 252, 246), (250, 248, 238), (255, 255, 255), (246, 243, 228), (252, 249, 232)]
DESKS = [(120, 85, 55), (160, 120, 80), (90, 90, 95), (200, 200, 195), (60, 50, 45), (180, 150, 110)]


# --- text -----------------------------------------------------------------------------

NAMES = ["Tom", "Sarah", "Priya", "Jonas", "Ahmed", "Mia", "Lucas", "Chen", "Fatima", "Oliver", "Nina",
         "Marco", "Elena", "Dave", "Aisha", "Ben", "Sofia", "Kenji", "Laura", "Pete", "Grace", "Hugo"]
SURNAMES = ["Miller", "Okafor", "Schmidt", "Patel", "Dubois", "Novak", "Garcia", "Larsen", "Walsh", "Kim"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DAYS_SHORT = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "March", "April", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec"]
GROCERIES = ["milk", "eggs", "bread", "butter", "coffee", "apples", "bananas", "rice", "pasta", "cheese",
             "tomatoes", "onions", "garlic", "olive oil", "yoghurt", "chicken", "lentils", "spinach",
             "carrots", "potatoes", "lemons", "tea bags", "flour", "sugar", "oat milk", "washing up liquid",
             "bin bags", "toothpaste", "cereal", "orange juice", "peppers", "mushrooms", "salmon", "honey"]
UNITS = ["1kg", "500g", "2x", "3x", "x6", "2L", "1 pack", "a dozen", "250g", "4"]
CHORES = ["Call the plumber about the leak", "Pay the electricity bill", "Book the dentist",
          "Return library books", "Renew passport", "Water the plants", "Pick up dry cleaning",
          "Fix the bike brakes", "Clean the gutters", "Order printer ink", "Cancel gym membership",
          "Back up the laptop", "Take the car for its MOT", "Change the smoke alarm battery",
          "Buy a birthday card", "Reply to the landlord", "Sort out the tax return", "Post the parcel",
          "Defrost the freezer", "Book train tickets", "Walk the dog", "Recycle the old batteries"]
TOPICS = ["budget", "roadmap", "hiring plan", "server migration", "marketing launch", "Q3 targets",
          "office move", "customer feedback", "release schedule", "training day", "supplier contract",
          "website redesign", "quarterly review", "holiday rota", "security audit"]
VERBS = ["send", "check", "update", "review", "draft", "confirm", "share", "finish", "prepare", "chase"]
THINGS = ["the slides", "the invoice", "the minutes", "the contract", "the report", "the figures",
          "the new logo", "the test plan", "the quote", "the agenda", "the spreadsheet", "the brief"]
PLACES = ["Lyon", "Leeds", "the station", "room 4B", "the library", "Berlin", "the clinic", "the garage",
          "Porto", "the town hall", "the office", "Glasgow"]


def _by_roll(roll: float, *ladder):
    """What the first ``(below, make)`` step that ``roll`` is below makes; the last
    item (a bare ``make``) above them all. Only the chosen maker draws from the rng."""
    for below, make in ladder[:-1]:
        if roll < below:
            return make()
    return ladder[-1]()


def _time(rng: random.Random) -> str:
    hour, minute = rng.randint(7, 18), rng.choice([0, 0, 15, 30, 45, 10, 20])
    style = rng.random()
    if style < 0.45:
        return f"{hour:02d}:{minute:02d}" if rng.random() < 0.5 else f"{hour}:{minute:02d}"
    if style < 0.8:
        h12 = hour - 12 if hour > 12 else hour
        suffix = "pm" if hour >= 12 else "am"
        return f"{h12}{suffix}" if minute == 0 else f"{h12}.{minute:02d}{suffix}"
    return f"{hour}h{minute:02d}"


def _date(rng: random.Random) -> str:
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    return _by_roll(
        rng.random(),
        (0.35, lambda: f"{day}/{month}"),
        (0.6, lambda: f"{day} {MONTHS[month - 1]}"),
        (0.8, lambda: f"{rng.choice(DAYS)} {day}"),
        lambda: f"{day:02d}.{month:02d}.{rng.choice([2025, 2026])}",
    )


def _phone(rng: random.Random) -> str:
    return rng.choice(["07", "01", "02"]) + "".join(str(rng.randint(0, 9)) for _ in range(3)) + " " + "".join(
        str(rng.randint(0, 9)) for _ in range(6)
    )


def _money(rng: random.Random) -> str:
    amount = rng.choice([rng.randint(5, 99), rng.randint(100, 2500)])
    cents = rng.choice(["", ".50", ".99", ".00", ".25"])
    return rng.choice(["£", "$", "", "€"]) + f"{amount}{cents}"


def _todo(rng: random.Random) -> str:
    text = _by_roll(
        rng.random(),
        (0.35, lambda: rng.choice(CHORES)),
        (0.5, lambda: f"Call {rng.choice(NAMES)} about {rng.choice(TOPICS + THINGS)}"),
        (0.62, lambda: f"{rng.choice(CHORES)} by {rng.choice(DAYS)}"),
        (0.74, lambda: f"Dentist {rng.choice(DAYS_SHORT)} at {_time(rng)}"),
        (0.84, lambda: f"Pay {rng.choice(['rent', 'council tax', 'the gas bill', 'Pete back'])} {_money(rng)}"),
        (0.92, lambda: f"Ring {rng.choice(NAMES)} {_phone(rng)}"),
        lambda: f"{rng.choice(VERBS).capitalize()} {rng.choice(THINGS)} to {rng.choice(NAMES)}",
    )
    prefix = rng.choice(["", "", "- ", "* ", "[ ] ", "o "])
    return prefix + text


def _meeting(rng: random.Random) -> str:
    roll = rng.random()
    name = rng.choice(NAMES)
    return _by_roll(
        roll,
        (0.2, lambda: f"{name}: {rng.choice(VERBS)} {rng.choice(THINGS)} by {rng.choice(DAYS_SHORT)}"),
        (0.35, lambda: f"Action {name} - {rng.choice(VERBS)} {rng.choice(TOPICS)}"),
        (0.5, lambda: f"Next meeting {_date(rng)} at {_time(rng)}"),
        (0.62, lambda: f"Budget agreed {_money(rng)} for {rng.choice(TOPICS)}"),
        (0.74, lambda: f"{name} {rng.choice(SURNAMES)} joins on {rng.choice(DAYS)}"),
        (0.86, lambda: f"Decision: move {rng.choice(TOPICS)} to {rng.choice(MONTHS)}"),
        lambda: f"Ask {name} about {rng.choice(TOPICS)} in {rng.choice(PLACES)}",
    )


def _shopping(rng: random.Random) -> str:
    items = rng.sample(GROCERIES, rng.choice([1, 1, 2, 3]))
    if len(items) == 1:
        item = items[0]
        roll = rng.random()
        if roll < 0.4:
            return f"{rng.choice(UNITS)} {item}"
        if roll < 0.6:
            return f"{item.capitalize()} {_money(rng)}"
        return item.capitalize() if rng.random() < 0.6 else item
    return ", ".join(items[:-1]) + (" and " if rng.random() < 0.5 else ", ") + items[-1]


def _title(rng: random.Random, kind: str) -> str:
    if kind == "todo":
        return rng.choice([f"To do {rng.choice(DAYS)}", "Things to do", f"TODO {_date(rng)}", "This week"])
    if kind == "meeting":
        return rng.choice([f"Meeting {_date(rng)}", f"{rng.choice(TOPICS).capitalize()} meeting",
                           f"Notes {rng.choice(DAYS)} {_time(rng)}", f"Call with {rng.choice(NAMES)}"])
    if kind == "shopping":
        return rng.choice(["Shopping", "Groceries", f"Shopping list {rng.choice(DAYS_SHORT)}", "Market"])
    return rng.choice([f"{rng.choice(DAYS)} {_date(rng)}", "Reminders", "Notes", f"Week of {_date(rng)}"])


def _note_text(rng: random.Random) -> list[str]:
    kind = rng.choice(["todo", "meeting", "shopping", "mixed"])
    count = rng.randint(5, 10)
    lines = [_title(rng, kind)] if rng.random() < 0.75 else []
    makers = {"todo": [_todo], "meeting": [_meeting], "shopping": [_shopping],
              "mixed": [_todo, _meeting, _shopping]}[kind]
    while len(lines) < count:
        line = rng.choice(makers)(rng)
        if line not in lines and len(line) <= 44:
            lines.append(line)
    return lines


# --- drawing --------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawnNote:
    image: Image.Image
    lines: list[str]
    # Each line's ink as a quadrilateral (4 (x, y) points, clockwise from top-left) in the
    # final image's pixels, and its axis-aligned bounding box (x, y, width, height).
    quads: list[tuple[tuple[float, float], ...]]
    boxes: list[tuple[int, int, int, int]]
    jpeg: bytes  # the photo as the file a phone would upload (``image`` is it decoded)
    font: str
    ink: str
    paper: str
    tier: str
    effects: dict  # the photo effects drawn for this note (size, blur, noise, scale, ...)


_MISSING: dict[str, set[str]] = {}


def _missing_glyphs(face_path: str, text: str) -> set[str]:
    """Characters of ``text`` the font has no glyph for (dkg and Breip lack '€'): they
    would draw as nothing or a box, so the ground truth must not hold them."""
    known = _MISSING.setdefault(face_path, set())
    face = ImageFont.truetype(face_path, 40)

    def pixels(char: str) -> bytes:
        image = Image.new("L", (80, 80))
        ImageDraw.Draw(image).text((10, 10), char, font=face, fill=255)
        return image.tobytes()

    notdef = pixels("\U0010fffd")
    for char in set(text) - known - {" "}:
        drawn = pixels(char)
        if drawn == notdef or not any(drawn):
            known.add(char)
    return known & set(text)


def _u(rng: random.Random, low_high) -> float:
    low, high = low_high
    return rng.uniform(low, high)


def _draw_line(text: str, face_path: str, size: float, slant: float, rng: random.Random, tier: Tier) -> Image.Image:
    """One handwritten line as an 'L' alpha layer: each word with its own baseline, size
    and spacing, then the whole line slanted and tilted."""
    words = text.split(" ")
    pad = int(size * 1.2)
    width = int(size * 0.75 * len(text) + size * 4)
    layer = Image.new("L", (width, int(size * 2.6)), 0)
    draw = ImageDraw.Draw(layer)
    x, base_y = pad, int(size * 0.6)
    drift = 0.0
    for word in words:
        word_size = max(12, round(size * rng.uniform(0.94, 1.06)))
        face = ImageFont.truetype(face_path, word_size)
        drift += rng.gauss(0, tier.word_jitter * size * 0.5)
        drift = max(-tier.word_jitter * size * 2, min(tier.word_jitter * size * 2, drift))
        draw.text((x, base_y + drift + (size - word_size) * 0.8), word, font=face, fill=255)
        x += face.getlength(word) + face.getlength(" ") * rng.uniform(*tier.word_gap) + size * 0.06
    # Slant (italic-like shear): x' = x + s * (height - y), i.e. the tops lean right.
    slant += rng.gauss(0, 0.03)  # the writer's slant, varying a little from line to line
    h = layer.height
    layer = layer.transform(
        (layer.width + int(abs(slant) * h) + 2, h), Image.AFFINE,
        (1, slant, -slant * h if slant > 0 else 0, 0, 1, 0), resample=Image.BICUBIC,
    )
    tilt = rng.gauss(0, tier.line_tilt / 2)
    layer = layer.rotate(tilt, resample=Image.BICUBIC, expand=True)
    bbox = layer.getbbox()
    return layer.crop(bbox) if bbox else layer


def _homography(src, dst) -> np.ndarray:
    """The 3x3 matrix H with H @ (x, y, 1) ~ (x', y', 1) for four point pairs."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    coeffs = np.linalg.solve(np.array(rows, float), np.array(rhs, float))
    return np.append(coeffs, 1.0).reshape(3, 3)


def _apply(matrix: np.ndarray, points) -> list[tuple[float, float]]:
    out = []
    for x, y in points:
        u, v, w = matrix @ np.array([x, y, 1.0])
        out.append((u / w, v / w))
    return out


def _smooth_field(nprng: np.random.Generator, size: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1], size (width, height)."""
    small = nprng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    image = Image.fromarray(((small + 1) * 127.5).astype(np.uint8), "L").resize(size, Image.BICUBIC)
    return np.asarray(image, np.float32) / 127.5 - 1


def draw_note(seed: int, tier: str = "typical") -> DrawnNote:
    if tier not in TIER_SETTINGS:
        raise ValueError(f"tier must be one of {TIERS}")
    t = TIER_SETTINGS[tier]
    rng = random.Random(f"inkdex-quality/{seed}/{tier}")
    nprng = np.random.default_rng(rng.getrandbits(64))
    lines = _note_text(rng)

    font = rng.choice(sorted(FONTS))
    missing = _missing_glyphs(FONTS[font], "".join(lines))
    lines = [" ".join("".join(c for c in line if c not in missing).split()) for line in lines]
    letter_px = _u(rng, t.size) * FONT_SCALE[font]
    scale = _u(rng, t.scale)
    size = letter_px / scale
    pencil = rng.random() < t.pencil
    ink_name = "pencil" if pencil else rng.choices(list(INKS), weights=[5, 2, 4, 1, 1, 1])[0]
    ink = PENCIL if pencil else INKS[ink_name]
    paper_kind = rng.choices(["blank", "ruled", "squared"], weights=[4, 5, 2])[0]
    paper = rng.choice(PAPERS)

    # Line layers and the sheet.
    slant_max = rng.uniform(*t.slant) * (1 if rng.random() < 0.85 else -1)
    layers = [_draw_line(text, FONTS[font], size, slant_max, rng, t) for text in lines]
    step = size * rng.uniform(1.9, 2.4)
    margin = int(size * rng.uniform(1.4, 2.2))
    left = margin + (int(size * 1.6) if paper_kind == "ruled" and rng.random() < 0.5 else 0)
    sheet_w = max(int(size * 24), max(l.width for l in layers) + left + margin)
    sheet_h = int(margin * 2 + step * len(lines) + size)
    alpha = Image.new("L", (sheet_w, sheet_h), 0)
    placed = []
    for index, layer in enumerate(layers):
        x = left + int(rng.gauss(0, size * 0.12)) + (int(size * 0.9) if rng.random() < 0.1 else 0)
        # Layers are cropped to their ink; put the ink's bottom near the rule, lines whose
        # letters all sit on the baseline (no descenders) a bit lower.
        y = int(margin + step * (index + 1) - layer.height * 0.85 + rng.gauss(0, size * 0.06))
        x = max(2, min(x, sheet_w - layer.width - 2))
        alpha.paste(ImageChops.lighter(alpha.crop((x, y, x + layer.width, y + layer.height)), layer), (x, y))
        placed.append((x, y, layer.width, layer.height))

    sheet = Image.new("RGB", (sheet_w, sheet_h), paper)
    draw = ImageDraw.Draw(sheet)
    rule = (150 + rng.randint(-20, 20), 180 + rng.randint(-20, 20), 225)
    if paper_kind == "ruled":
        for i in range(1, len(lines) + 2):
            y = int(margin + step * i + size * 0.08)
            draw.line([(0, y), (sheet_w, y)], fill=rule, width=2)
        if left > margin:
            draw.line([(left - int(size * 0.4), 0), (left - int(size * 0.4), sheet_h)], fill=(220, 120, 120), width=2)
    elif paper_kind == "squared":
        cell = int(size * 0.6)
        faint = tuple(min(255, c + 25) for c in rule)
        for x in range(0, sheet_w, cell):
            draw.line([(x, 0), (x, sheet_h)], fill=faint, width=1)
        for y in range(0, sheet_h, cell):
            draw.line([(0, y), (sheet_w, y)], fill=faint, width=1)
    # Paper texture.
    texture = _smooth_field(nprng, sheet.size, 12) * 4 + nprng.normal(0, 1.5, (sheet_h, sheet_w))
    sheet_arr = np.asarray(sheet, np.float32) + texture[..., None]
    # Ink: opacity, pencil grain, a little bleed.
    a = np.asarray(alpha.filter(ImageFilter.GaussianBlur(0.6)), np.float32) / 255
    a *= _u(rng, t.faint)
    if pencil:
        a *= np.clip(0.8 + 0.2 * nprng.standard_normal(a.shape) + 0.1 * _smooth_field(nprng, sheet.size, 30), 0.2, 1)
        a = np.minimum(1, a * rng.uniform(1.0, 1.3))  # graphite: grey, grainy, but pressed on
    ink_arr = np.array(ink, np.float32) + nprng.normal(0, 6, 3).astype(np.float32)
    sheet_arr = sheet_arr * (1 - a[..., None]) + ink_arr * a[..., None]
    sheet = Image.fromarray(np.clip(sheet_arr, 0, 255).astype(np.uint8), "RGB")

    # The photo: the sheet on a desk, rotated and in perspective.
    border = int(size * rng.uniform(0.8, 2.5)) if tier != "clean" else 0
    angle = math.radians(rng.uniform(-t.rotation, t.rotation))
    cx, cy = sheet_w / 2, sheet_h / 2
    corners = [(0, 0), (sheet_w, 0), (sheet_w, sheet_h), (0, sheet_h)]
    moved = []
    for x, y in corners:
        dx, dy = x - cx, y - cy
        rx = cx + dx * math.cos(angle) - dy * math.sin(angle)
        ry = cy + dx * math.sin(angle) + dy * math.cos(angle)
        moved.append((rx + rng.uniform(-1, 1) * t.perspective * sheet_w,
                      ry + rng.uniform(-1, 1) * t.perspective * sheet_h))
    min_x, min_y = min(p[0] for p in moved), min(p[1] for p in moved)
    moved = [(x - min_x + border, y - min_y + border) for x, y in moved]
    out_w = int(max(p[0] for p in moved) + border)
    out_h = int(max(p[1] for p in moved) + border)
    forward = _homography(corners, moved)
    inverse = np.linalg.inv(forward)
    inverse /= inverse[2, 2]
    desk = rng.choice(DESKS)
    photo = sheet.transform((out_w, out_h), Image.PERSPECTIVE, tuple(inverse.flatten()[:8]),
                            resample=Image.BICUBIC, fillcolor=desk)
    arr = np.asarray(photo, np.float32)

    # Uneven light: a gradient across the photo plus a soft blotch; then a shadow.
    darkest = _u(rng, t.light)
    gx = np.linspace(0, 1, out_w, dtype=np.float32)[None, :]
    gy = np.linspace(0, 1, out_h, dtype=np.float32)[:, None]
    direction = rng.uniform(0, 2 * math.pi)
    grad = (gx - 0.5) * math.cos(direction) + (gy - 0.5) * math.sin(direction)
    grad = (grad - grad.min()) / max(1e-6, grad.max() - grad.min())
    light = darkest + (1 - darkest) * grad
    light = light * (1 + 0.06 * (1 - darkest) * _smooth_field(nprng, (out_w, out_h), 4))
    if rng.random() < t.shadow:
        mask = Image.new("L", (out_w, out_h), 0)
        sd = ImageDraw.Draw(mask)
        side = rng.choice(["left", "right", "top", "bottom", "corner"])
        reach_x, reach_y = out_w * rng.uniform(0.15, 0.5), out_h * rng.uniform(0.15, 0.5)
        if side == "left":
            poly = [(0, 0), (reach_x, 0), (reach_x * rng.uniform(0.5, 1.5), out_h), (0, out_h)]
        elif side == "right":
            poly = [(out_w, 0), (out_w - reach_x, 0), (out_w - reach_x * rng.uniform(0.5, 1.5), out_h), (out_w, out_h)]
        elif side == "top":
            poly = [(0, 0), (out_w, 0), (out_w, reach_y * rng.uniform(0.5, 1.5)), (0, reach_y)]
        elif side == "bottom":
            poly = [(0, out_h), (out_w, out_h), (out_w, out_h - reach_y * rng.uniform(0.5, 1.5)), (0, out_h - reach_y)]
        else:
            poly = [(out_w, out_h), (out_w - reach_x * 1.4, out_h), (out_w, out_h - reach_y * 1.4)]
        sd.polygon(poly, fill=255)
        mask = mask.filter(ImageFilter.GaussianBlur(min(out_w, out_h) * rng.uniform(0.03, 0.1)))
        depth = _u(rng, t.shadow_depth)
        light = light * (1 - (1 - depth) * np.asarray(mask, np.float32) / 255)
    tint = np.array([1.0, rng.uniform(0.97, 1.01), rng.uniform(0.9, 1.0)], np.float32)  # warm indoor light
    arr = arr * light[..., None] * tint
    photo = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")

    # Camera: blur, smaller size, sensor noise, JPEG.
    if scale < 0.999:
        photo = photo.resize((round(out_w * scale), round(out_h * scale)), Image.LANCZOS)
    blur = _u(rng, t.blur)
    if blur > 0.05:
        photo = photo.filter(ImageFilter.GaussianBlur(blur))
    sigma = _u(rng, t.noise)
    if sigma > 0.05:
        arr = np.asarray(photo, np.float32)
        arr = arr + nprng.normal(0, sigma, arr.shape[:2])[..., None] + nprng.normal(0, sigma / 3, arr.shape)
        photo = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    buffer = io.BytesIO()
    quality = rng.randint(*t.jpeg)
    photo.save(buffer, "JPEG", quality=quality)
    jpeg = buffer.getvalue()
    photo = Image.open(io.BytesIO(jpeg))
    photo.load()

    quads, boxes = [], []
    for x, y, w, h in placed:
        quad = [(px * scale, py * scale) for px, py in _apply(forward, [(x, y), (x + w, y), (x + w, y + h), (x, y + h)])]
        quads.append(tuple(quad))
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        boxes.append((int(min(xs)), int(min(ys)), int(max(xs) - min(xs)), int(max(ys) - min(ys))))
    effects = {"letter_px": round(letter_px, 1), "slant": round(slant_max, 2), "rotation": round(math.degrees(angle), 1),
               "light": round(darkest, 2), "blur": round(blur, 2), "scale": round(scale, 2), "noise": round(sigma, 1),
               "jpeg": quality, "pencil": pencil}
    return DrawnNote(photo, lines, quads, boxes, jpeg, font, ink_name, paper_kind, tier, effects)


def make_note(seed: int, tier: str = "typical") -> tuple[Image.Image, list[str]]:
    """A JPEG-decoded photo of a handwritten note and its lines, top to bottom."""
    note = draw_note(seed, tier)
    return note.image, note.lines


if __name__ == "__main__":  # write a few samples: python bench/quality/corpus.py OUTDIR [SEED...]
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/inkdex-quality-samples")
    out.mkdir(parents=True, exist_ok=True)
    for seed in [int(s) for s in sys.argv[2:]] or [1, 2, 3]:
        for tier in TIERS:
            note = draw_note(seed, tier)
            path = out / f"{tier}-{seed}.jpg"
            path.write_bytes(note.jpeg)
            print(path, note.image.size, note.font, note.ink, note.paper, "|", " / ".join(note.lines))
