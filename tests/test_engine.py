"""The default engine on real generated images, and the image preparation around it."""

import io

import pytest
from PIL import Image

from ocr_app.engines import Box, RecognizedLine
from ocr_app.engines.layout import group_into_lines
from ocr_app.images import open_upright_rgb
from ocr_app.pipeline.engine_selection import get_engine
from ocr_app.pipeline.recognition import recognize_image
from tests.notegen import SAMPLE_LINES, encode, render_note


def words_of(lines):
    return {word.strip(",.").lower() for line in lines for word in line.text.split()}


def overlap(a: Box, b: tuple[int, int, int, int]) -> float:
    """Intersection over the smaller area of two boxes."""
    bx, by, bw, bh = b
    width = min(a.right, bx + bw) - max(a.x, bx)
    height = min(a.bottom, by + bh) - max(a.y, by)
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / min(a.width * a.height, bw * bh)


@pytest.mark.parametrize("font", ["dkg", "femke", "breip"])
def test_rapidocr_reads_handwriting_fonts_with_boxes_on_the_ink(font):
    image, drawn = render_note(SAMPLE_LINES[:4], font=font)
    recognition = get_engine("rapidocr").recognize(image)

    assert recognition.engine_name == "rapidocr"
    assert "rapidocr 3." in recognition.engine_version
    assert len(recognition.lines) == len(drawn)
    expected = {w.strip(",").lower() for text in SAMPLE_LINES[:4] for w in text.split()}
    found = words_of(recognition.lines)
    assert len(expected & found) / len(expected) >= 0.8, (expected - found)
    for line, truth in zip(recognition.lines, drawn):
        assert 0 <= line.confidence <= 100
        assert overlap(line.box, truth.box) > 0.7, (line, truth)
        assert line.words, "RapidOCR gives word boxes; they must be kept"
        for word in line.words:
            assert overlap(word.box, (line.box.x, line.box.y, line.box.width, line.box.height)) > 0.9


def test_blank_image_gives_no_lines():
    recognition = get_engine().recognize(Image.new("RGB", (800, 600), "white"))
    assert recognition.lines == []


def test_exif_rotated_photo_is_read_upright_and_boxes_are_in_upright_pixels():
    image, drawn = render_note(SAMPLE_LINES[:2])
    # A phone stores the sensor's pixels turned sideways and says so in EXIF
    # (orientation 6: rotate 90 degrees clockwise to display).
    sideways = image.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(sideways, "JPEG", exif=exif.tobytes())

    upright = open_upright_rgb(io.BytesIO(data))
    assert upright.size == image.size
    recognition = recognize_image(upright)
    assert "plumber" in words_of(recognition.lines)
    assert overlap(recognition.lines[0].box, drawn[0].box) > 0.7


def test_large_image_is_downscaled_for_ocr_and_boxes_map_back(settings):
    settings.INKDEX = {**settings.INKDEX, "OCR_MAX_PIXELS": 700_000}
    image, drawn = render_note(SAMPLE_LINES[:2], size=88, width=2200)  # ~2.3 MP
    recognition = recognize_image(image)
    assert "plumber" in words_of(recognition.lines)
    assert overlap(recognition.lines[0].box, drawn[0].box) > 0.7
    assert recognition.lines[0].box.right <= image.width


def fragment(text, x, y, w, h, confidence=90.0):
    return RecognizedLine(text, confidence, Box(x, y, w, h))


def test_layout_joins_fragments_on_one_line_and_orders_lines():
    lines = group_into_lines(
        [
            fragment("second", 10, 100, 200, 40),
            fragment("world", 230, 12, 150, 40, confidence=60),
            fragment("hello", 10, 10, 200, 40, confidence=100),
        ]
    )
    assert [line.text for line in lines] == ["hello world", "second"]
    # Weighted by length: (100*5 + 60*5) / 10
    assert lines[0].confidence == 80
    assert lines[0].box == Box(10, 10, 370, 42)


def test_layout_keeps_far_apart_columns_as_separate_lines():
    lines = group_into_lines([fragment("left", 10, 10, 100, 30), fragment("right column", 600, 12, 200, 30)])
    assert [line.text for line in lines] == ["left", "right column"]


def test_layout_keeps_lines_of_a_tilted_photo_apart():
    # RapidOCR's boxes for two lines of a photo turned by ~5 degrees (from the
    # quality corpus): the axis-aligned boxes overlap vertically by more than
    # half, but one sits above the other, so they stay two lines.
    lines = group_into_lines(
        [
            fragment("Roadmap meeting", 232, 239, 482, 141),
            fragment("Grace Novak joins on Thursday", 242, 304, 868, 192),
        ]
    )
    assert [line.text for line in lines] == ["Roadmap meeting", "Grace Novak joins on Thursday"]
    # Turned the other way, the lower line's box starts further left: still read second.
    lines = group_into_lines(
        [
            fragment("Roadmap meeting", 242, 239, 482, 141),
            fragment("Grace Novak joins on Thursday", 232, 304, 868, 192),
        ]
    )
    assert [line.text for line in lines] == ["Roadmap meeting", "Grace Novak joins on Thursday"]


def test_layout_joins_words_of_a_line_whose_boxes_overlap():
    # RapidOCR's loose boxes for "Note number 3" in the test font: "number" and
    # "3" overlap horizontally, but their centres are level: one line.
    lines = group_into_lines(
        [
            fragment("Note", 55, 71, 117, 84),
            fragment("number", 158, 59, 189, 116),
            fragment("3", 297, 73, 80, 79),
        ]
    )
    assert [line.text for line in lines] == ["Note number 3"]
