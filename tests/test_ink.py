"""How much of a page's ink no line box covers (``engines.ink``), on synthetic pages."""

from PIL import Image, ImageDraw

from ocr_app.engines.base import Box
import numpy as np

from ocr_app.engines.ink import InkMap, stretched
from tests.notegen import SAMPLE_LINES, render_note

PAGE = (1200, 1600)
TOP_BLOCK = Box(150, 200, 800, 300)
BOTTOM_BLOCK = Box(150, 1000, 800, 300)


def unread_ink_share(image: Image.Image, boxes: list[Box]) -> float:
    return InkMap(image).unread_share(boxes)


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


def on_a_desk(sheet: Image.Image, desk=(60, 50, 45), border: int = 150) -> Image.Image:
    photo = Image.new("RGB", (sheet.width + 2 * border, sheet.height + 2 * border), desk)
    photo.paste(sheet, (border, border))
    return photo


def moved(box: Box, by: int) -> Box:
    return Box(box.x + by, box.y + by, box.width, box.height)


def test_a_dark_desk_around_the_sheet_is_not_ink():
    photo = on_a_desk(page_with_two_blocks())
    assert unread_ink_share(photo, [moved(TOP_BLOCK, 150), moved(BOTTOM_BLOCK, 150)]) <= 0.02


def test_the_shadow_along_a_sheets_edge_on_a_light_desk_is_not_ink():
    photo = on_a_desk(page_with_two_blocks(), desk=(205, 205, 200))
    draw = ImageDraw.Draw(photo)
    draw.line([(148, 150), (148, 150 + PAGE[1])], fill=(120, 120, 120), width=5)  # the sheet's shadow
    assert unread_ink_share(photo, [moved(TOP_BLOCK, 150), moved(BOTTOM_BLOCK, 150)]) <= 0.02


def test_faint_writing_in_a_shadow_is_ink():
    # Paper darkening to 45 % at the bottom, the lower block written faintly in it.
    image = Image.new("L", PAGE)
    image.putdata([255 - (y * 140) // PAGE[1] for y in range(PAGE[1]) for x in range(PAGE[0])])
    image = image.convert("RGB")
    draw = ImageDraw.Draw(image)
    scribble(draw, TOP_BLOCK)
    scribble(draw, BOTTOM_BLOCK, fill=(95, 95, 95))  # about 25 levels under the paper there
    assert unread_ink_share(image, [TOP_BLOCK]) >= 0.3


def test_light_writing_on_a_dark_board_is_ink():
    board = page_with_two_blocks(background=(35, 45, 40))
    draw = ImageDraw.Draw(board)
    scribble(draw, TOP_BLOCK, fill=(235, 235, 230))
    scribble(draw, BOTTOM_BLOCK, fill=(235, 235, 230))
    assert unread_ink_share(board, []) >= 0.98
    assert unread_ink_share(board, [TOP_BLOCK, BOTTOM_BLOCK]) <= 0.02


def test_a_crop_of_a_board_is_stretched_as_the_board_was_measured():
    """Chalk becomes the dark ink of a stretched crop when the page is a board,
    whatever the crop alone looks like (a crop full of chalk looks like paper)."""
    board = page_with_two_blocks(background=(35, 45, 40))
    ImageDraw.Draw(board).rectangle([TOP_BLOCK.x, TOP_BLOCK.y, TOP_BLOCK.right, TOP_BLOCK.bottom], fill=(235, 235, 230))
    scribble(ImageDraw.Draw(board), TOP_BLOCK, fill=(35, 45, 40))  # dark strokes left in a chalked area
    ink = InkMap(board)
    assert ink.dark_page
    crop = board.crop((TOP_BLOCK.x, TOP_BLOCK.y, TOP_BLOCK.right, TOP_BLOCK.bottom))
    chalk = np.asarray(crop.convert("L")) > 128
    as_board = np.asarray(stretched(crop, dark_page=ink.dark_page).convert("L"))
    as_itself = np.asarray(stretched(crop).convert("L"))
    assert np.median(as_board[chalk]) <= 60  # the chalk is the ink
    assert np.median(as_itself[chalk]) >= 200  # alone, the crop read the chalk as paper


def test_the_unread_region_surrounds_the_ink_no_box_covers():
    ink = InkMap(page_with_two_blocks())
    [region] = ink.unread_regions([TOP_BLOCK])
    assert region.x <= BOTTOM_BLOCK.x and region.right >= BOTTOM_BLOCK.right - 25
    assert region.y <= BOTTOM_BLOCK.y and region.bottom >= BOTTOM_BLOCK.bottom - 30
    assert region.y > TOP_BLOCK.y + TOP_BLOCK.height // 2  # not around the block that was read
    assert ink.unread_regions([TOP_BLOCK, BOTTOM_BLOCK]) == []


def test_a_speck_is_no_region_to_look_at_again():
    image = page_with_two_blocks()
    ImageDraw.Draw(image).ellipse([600, 750, 606, 756], fill=(30, 30, 60))  # a dot between the blocks
    assert InkMap(image).unread_regions([TOP_BLOCK, BOTTOM_BLOCK]) == []


def test_stretching_makes_faint_ink_black_and_shadowed_paper_white():
    image = Image.new("L", PAGE)
    image.putdata([200 - (x * 80) // PAGE[0] for y in range(PAGE[1]) for x in range(PAGE[0])])
    image = image.convert("RGB")
    scribble(ImageDraw.Draw(image), TOP_BLOCK, fill=(150, 150, 150))
    pixels = np.asarray(stretched(image).convert("L"))
    paper = pixels[BOTTOM_BLOCK.y:BOTTOM_BLOCK.bottom, BOTTOM_BLOCK.x:BOTTOM_BLOCK.right]
    assert np.percentile(paper, 10) >= 170  # bright and shadowed paper alike (it was 120-200)
    ink = pixels[TOP_BLOCK.y:TOP_BLOCK.bottom, TOP_BLOCK.x:TOP_BLOCK.right]
    assert np.percentile(ink, 2) <= 60  # it was 150, on paper of 170-200


def test_a_ruled_margin_line_is_not_ink():
    image = page_with_two_blocks()
    draw = ImageDraw.Draw(image)
    # The red margin of ruled paper and one ruled line, broken (as thresholding
    # breaks them in a photo) into pieces each far shorter than the page.
    for y in range(0, PAGE[1], 130):
        draw.line([(100, y), (100, y + 120)], fill=(200, 60, 60), width=3)
    for x in range(0, PAGE[0], 130):
        draw.line([(x, 850), (x + 120, 850)], fill=(90, 120, 200), width=2)
    assert unread_ink_share(image, [TOP_BLOCK, BOTTOM_BLOCK]) <= 0.02
