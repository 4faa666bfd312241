"""How much of a page's ink no line box covers (``engines.ink``), on synthetic pages."""

from PIL import Image, ImageDraw

from ocr_app.engines.base import Box
from ocr_app.engines.ink import unread_ink_share
from tests.notegen import SAMPLE_LINES, render_note

PAGE = (1200, 1600)
TOP_BLOCK = Box(150, 200, 800, 300)
BOTTOM_BLOCK = Box(150, 1000, 800, 300)


def scribble(draw: ImageDraw.ImageDraw, block: Box, fill=(30, 30, 60)) -> None:
    """Rows of dark strokes filling the block, like lines of writing."""
    for y in range(block.y, block.bottom, 60):
        for x in range(block.x, block.right - 20, 25):
            draw.line([(x, y + 35), (x + 15, y)], fill=fill, width=4)


def page_with_two_blocks(background="white") -> Image.Image:
    image = Image.new("RGB", PAGE, background)
    draw = ImageDraw.Draw(image)
    scribble(draw, TOP_BLOCK)
    scribble(draw, BOTTOM_BLOCK)
    return image


def test_ink_outside_the_boxes_of_one_of_two_equal_blocks_is_about_half():
    share = unread_ink_share(page_with_two_blocks(), [TOP_BLOCK])
    assert 0.4 <= share <= 0.6


def test_ink_all_inside_the_boxes_gives_about_nothing():
    assert unread_ink_share(page_with_two_blocks(), [TOP_BLOCK, BOTTOM_BLOCK]) <= 0.02


def test_boxes_slightly_tighter_than_the_strokes_still_cover_them():
    tight = [Box(b.x + 4, b.y + 4, b.width - 8, b.height - 8) for b in (TOP_BLOCK, BOTTOM_BLOCK)]
    assert unread_ink_share(page_with_two_blocks(), tight) <= 0.05


def test_no_boxes_on_a_written_page_leaves_all_ink_unread():
    assert unread_ink_share(page_with_two_blocks(), []) >= 0.98


def test_a_blank_page_has_no_unread_ink():
    assert unread_ink_share(Image.new("RGB", PAGE, "white"), []) == 0.0
    assert unread_ink_share(Image.new("RGB", (1, 1), "white"), []) == 0.0


def test_uneven_light_and_the_page_edge_are_not_ink():
    # Paper lit from one side (bright to grey), on a dark table showing at the very edge.
    image = Image.new("L", PAGE)
    image.putdata([255 - (x * 110) // PAGE[0] for y in range(PAGE[1]) for x in range(PAGE[0])])
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, PAGE[0], 20], fill=20)
    assert unread_ink_share(image.convert("RGB"), []) == 0.0


def test_boxes_of_a_large_photo_are_measured_in_its_own_pixels():
    big = page_with_two_blocks().resize((PAGE[0] * 3, PAGE[1] * 3))
    boxes = [TOP_BLOCK.scaled(3)]
    assert 0.4 <= unread_ink_share(big, boxes) <= 0.6


def test_a_generated_note_with_its_drawn_line_boxes_is_fully_covered():
    image, drawn = render_note(SAMPLE_LINES[:4])
    boxes = [Box(*line.box) for line in drawn]
    assert unread_ink_share(image, boxes) <= 0.02
    assert unread_ink_share(image, boxes[:2]) >= 0.3
