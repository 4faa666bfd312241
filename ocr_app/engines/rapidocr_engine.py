"""The default engine: RapidOCR (PP-OCR models on onnxruntime), fully offline.

The ``rapidocr`` wheel carries its detector, angle classifier and recogniser, so
nothing is downloaded at run time. Loading takes about a second and the models
take several hundred MB, so one instance is kept per process.

Besides its best reading of each text box, the engine gives a few other
readings where the recogniser was unsure (see ``alternatives``), and reads an
unclear word as the known word of the note's language that the recogniser finds
nearly as likely, the note owner's own words (``user_words``) first (see
``lexicon``). RapidOCR does not hand out the recogniser's
per-character probabilities, so its CTC decoder is wrapped to keep them as it
decodes: the recogniser still runs once.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from dataclasses import replace
from importlib.metadata import version as package_version

import numpy as np
from PIL import Image

from .alternatives import MAX_ALTERNATIVES, joined_alternatives, key, line_alternatives
from .base import Box, EngineError, OcrEngine, Recognition, RecognizedLine, RecognizedWord
from .confidence import BUILT_IN, named_features
from .ink import InkMap, stretched
from .layout import group_into_lines
from .lexicon import known_word_reading, vocabulary

logger = logging.getLogger(__name__)


class _ProbabilityTap:
    """Takes the place of RapidOCR's recogniser (``RapidOCR.text_rec``): runs it
    unchanged, and keeps, for the texts it returns, the other readings that the
    recogniser's probability matrices allow (per thread, for the latest call)."""

    def __init__(self, recognizer) -> None:
        self._recognizer = recognizer
        self._decoder = recognizer.postprocess_op
        self._local = threading.local()
        tap = self

        class _Decoder:
            # The recogniser calls its decoder once per batch with the softmax
            # output, (batch, time steps, alphabet); keep it, decode as before.
            def __getattr__(self, name):
                return getattr(tap._decoder, name)

            def __call__(self, preds, *args, **kwargs):
                batches = getattr(tap._local, "batches", None)
                if batches is not None:
                    batches.append(preds)
                return tap._decoder(preds, *args, **kwargs)

        recognizer.postprocess_op = _Decoder()

    def __getattr__(self, name):
        return getattr(self._recognizer, name)

    def expect(self, language: str | None, user_words: tuple[str, ...] = ()) -> None:
        """The language of the next image's words (None: read as the recogniser
        does), and the owner's words to prefer."""
        self._local.language = language
        self._local.user_words = user_words

    def __call__(self, args):
        self._local.batches = []
        self._local.readings = None
        try:
            output = self._recognizer(args)
            self._local.readings = self._alternatives(args.img, output)
        finally:
            batches, self._local.batches = self._local.batches, None
            del batches
        return output

    def _alternatives(self, images, output):
        """(text, score, alternatives, text with known words) per image, in the order of ``output.txts``."""
        images = [images] if isinstance(images, np.ndarray) else list(images)
        if output.txts is None or len(images) != len(output.txts):
            return None
        # The recogniser batches images by width ratio, in this order.
        order = np.argsort(np.array([image.shape[1] / float(image.shape[0]) for image in images]))
        rows = [row for batch in self._local.batches for row in batch]
        if len(rows) != len(images):
            return None
        characters = self._decoder.character
        language = getattr(self._local, "language", None)
        user_words = getattr(self._local, "user_words", ())
        readings = [None] * len(images)
        for position, index in enumerate(order.tolist()):
            text = output.txts[index]
            try:
                alternatives = line_alternatives(rows[position], characters, text)
            except Exception:  # alternatives are a bonus; never lose the text over them
                logger.exception("Could not compute alternative readings")
                alternatives = []
            corrected = None
            if language:
                try:
                    corrected = known_word_reading(rows[position], characters, text, language, user_words)
                except Exception:  # as above: the reading as it is rather than none
                    logger.exception("Could not check the words against the lexicon")
            readings[index] = (text, output.scores[index], alternatives, corrected)
        return readings

    def take_readings(self):
        readings, self._local.readings = getattr(self._local, "readings", None), None
        return readings


def _match_readings(readings, txts, scores) -> list[tuple[list[tuple[str, float]], str]]:
    """(alternatives, text with known words) for each of RapidOCR's final results:
    it drops empty and low-score texts but keeps the order, so match them up in order."""
    matched = []
    position = 0
    for text, score in zip(txts, scores):
        found = ([], None)
        for probe in range(position, len(readings or ())):
            r_text, r_score, alternatives, corrected = readings[probe]
            if r_text == text and float(r_score) == float(score):
                found, position = (alternatives, corrected), probe + 1
                break
        matched.append(found)
    return matched


class RapidOcrEngine(OcrEngine):
    name = "rapidocr"
    settings_options = {"threads": "OCR_THREADS", "rescan": "OCR_RESCAN"}

    def __init__(
        self, alternatives: bool = True, calibrate: bool = True, threads: int = 0, lexicon: bool = True, rescan: bool = True
    ) -> None:
        self._ocr = None
        # CPU threads for one image (0: onnxruntime's choice, all cores). Several
        # workers on one machine each take a share, or they only get in each other's way.
        self._threads = threads
        self._tap = None
        self._alternatives = alternatives
        # The recogniser's score, re-weighed into a confidence that predicts errors (see ``confidence``).
        self._calibrate = calibrate
        # Unclear words read as the known words the recogniser finds nearly as likely (see ``lexicon``).
        self._lexicon = lexicon
        # A second look, with the ink stretched, where the first left ink unread:
        # small, faint and pencil writing the detector missed on the whole page.
        self._rescan = rescan
        self._lock = threading.Lock()


    @property
    def languages(self) -> tuple[str, ...]:
        # The shipped PP-OCRv6 recogniser reads Chinese and the Latin alphabet with
        # its accented letters (é, ü, ñ, ß, ø, å…): one model for all of these.
        return ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "zh")

    @property
    def version(self) -> str:
        return f"rapidocr {package_version('rapidocr')}, onnxruntime {package_version('onnxruntime')}"

    def _load(self):
        with self._lock:
            if self._ocr is None:
                from rapidocr import RapidOCR

                # No angle classifier: on handwriting it turns right-way-up lines
                # upside down (44 of 701 boxes of the quality corpus's tuning
                # seeds, then read as garbage), and it cannot tell an upside-down
                # page either (it calls most of such a page's lines upright).
                # Pages come upright from their EXIF orientation.
                params = {"Global.log_level": "warning", "Global.use_cls": False}
                if self._threads > 0:
                    params["EngineConfig.onnxruntime.intra_op_num_threads"] = self._threads
                ocr = RapidOCR(params=params)
                # RapidOCR attaches its own handler at INFO; keep its chatter out
                # of worker logs (it warns of every blank page or part of a page
                # looked at again: routine here). Failures reach us as exceptions.
                logging.getLogger("RapidOCR").setLevel(logging.ERROR)
                if self._alternatives:
                    try:
                        self._tap = _ProbabilityTap(ocr._load_rec_model())
                        ocr.text_rec = self._tap
                    except Exception:  # a RapidOCR that no longer fits: text only
                        logger.exception("Alternative readings are off: RapidOCR's recogniser could not be tapped")
                        self._tap = None
                self._ocr = ocr
            return self._ocr

    def warm_up(self) -> None:
        self._load()
        if self._lexicon:
            vocabulary("en")  # the word list most notes use, before the first image's time limit starts

    def recognize(self, image: Image.Image, language: str = "en", user_words: tuple[str, ...] = ()) -> Recognition:
        ocr = self._load()
        if self._tap is not None:
            self._tap.expect(language if self._lexicon else None, tuple(user_words))
        page = image.convert("RGB")
        fragments, fragment_alternatives = self._read(ocr, page)
        ink = InkMap(page)
        if self._rescan:
            region = _region_to_rescan(ink, fragments)
            if region is not None:
                found, found_alternatives = self._read(ocr, stretched(page.crop(_corners(region)), dark_page=ink.dark_page), region)
                for fragment in found:
                    if _new_to(fragment, fragments):
                        fragments.append(fragment)
                        fragment_alternatives[id(fragment)] = found_alternatives[id(fragment)]
        lines = _with_joined_alternatives(group_into_lines(fragments), fragments, fragment_alternatives)
        if language != "zh":
            lines = [_in_plain_forms(line) for line in lines]
        if self._calibrate:
            lines = [self._calibrated(line, language, user_words) for line in lines]
        return Recognition(
            lines=lines,
            engine_name=self.name,
            engine_version=self.version,
            unread_ink=ink.unread_share([line.box for line in lines]),
        )

    def _read(self, ocr, image: Image.Image, region: Box | None = None):
        """The text fragments RapidOCR finds in ``image`` (a part of the page at
        ``region``, when given: boxes are moved back into the page's pixels),
        and each fragment's alternative readings by ``id``."""
        try:
            output = ocr(image, return_word_box=True)
        except Exception as exc:  # the library raises bare exceptions on odd input
            raise EngineError(f"RapidOCR could not read this image: {exc}") from exc
        readings = self._tap.take_readings() if self._tap is not None else None
        offset = np.array([region.x, region.y], dtype=float) if region is not None else np.zeros(2)

        def box(points) -> Box:
            return Box.around(np.asarray(points, dtype=float).reshape(-1, 2) + offset)

        fragments: list[RecognizedLine] = []
        fragment_alternatives: dict[int, list[tuple[str, float]]] = {}
        if output.boxes is None or not output.txts:
            return fragments, fragment_alternatives
        word_results = output.word_results or ((),) * len(output.txts)
        matched = _match_readings(readings, output.txts, output.scores)
        for quad, text, score, words, (alts, corrected) in zip(
            output.boxes, output.txts, output.scores, word_results, matched
        ):
            text = text.strip()
            if not text:
                continue
            words = tuple(
                RecognizedWord(str(w_text), round(float(w_score) * 100, 2), box(w_box))
                for w_text, w_score, w_box in words
                if str(w_text).strip()
            )
            if corrected:
                text, words, alts = _with_known_words(text, corrected, words, alts)
            fragment = RecognizedLine(
                text=text,
                confidence=round(float(score) * 100, 2),
                box=box(quad),
                words=words,
                alternatives=tuple(alt for alt, _ in alts),
            )
            fragments.append(fragment)
            fragment_alternatives[id(fragment)] = alts
        return fragments, fragment_alternatives

    def _calibrated(self, line: RecognizedLine, language: str, user_words: tuple[str, ...] = ()) -> RecognizedLine:
        """The line with the confidence its features give under the weights in use, and those
        features; the owner's ``user_words`` count as words of the language."""
        features = named_features(line, language, user_words)
        confidence = (self.calibration or BUILT_IN).confidence(dict(features))
        return replace(line, confidence=confidence, features=features)


# A fragment found on the second look is new unless this share of its box is
# inside a fragment of the first.
SEEN_OVERLAP = 0.5


def _region_to_rescan(ink: InkMap, fragments: list[RecognizedLine]) -> Box | None:
    """Where to look again: around all the ink no fragment covers; the whole page
    when nothing at all was read; None when all the ink was read."""
    regions = ink.unread_regions([fragment.box for fragment in fragments])
    if regions:
        return Box.union(regions)
    return None if fragments else Box(0, 0, *ink.size)


def _corners(box: Box) -> tuple[int, int, int, int]:
    return (box.x, box.y, box.right, box.bottom)


def _new_to(fragment: RecognizedLine, seen: list[RecognizedLine]) -> bool:
    """Whether ``fragment`` is not (mostly) one of ``seen`` found again."""
    box = fragment.box
    return all(box.shared_area(other.box) <= SEEN_OVERLAP * box.area for other in seen)


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _in_plain_forms(line: RecognizedLine) -> RecognizedLine:
    """The line with the full-width and circled forms the Chinese-trained recogniser
    gives Latin text ("10：30", "⑥") in their plain forms ("10:30", "6")."""
    plain = _plain(line.text)
    if plain == line.text and all(_plain(alt) == alt for alt in line.alternatives):
        return line
    return replace(
        line,
        text=plain,
        words=tuple(replace(word, text=_plain(word.text)) for word in line.words),
        alternatives=tuple(dict.fromkeys(a for a in map(_plain, line.alternatives) if key(a) != key(plain))),
    )


def _with_known_words(text, corrected, words, alternatives):
    """The fragment read with the known words of ``corrected`` ((word, relative
    likelihood) pairs): the reading it replaces becomes its first alternative, and
    each replaced word gets its spelling and a confidence scaled by how much less
    likely the recogniser found it."""
    new_text = " ".join(word for word, _ in corrected)
    alternatives = [(text, 1.0)] + [(alt, p) for alt, p in alternatives if key(alt) != key(new_text)]
    if len(corrected) == len(words):
        words = tuple(
            word if spelling == word.text else replace(word, text=spelling, confidence=round(word.confidence * ratio, 2))
            for word, (spelling, ratio) in zip(words, corrected)
        )
    return new_text, words, alternatives[:MAX_ALTERNATIVES]


def _with_joined_alternatives(lines, fragments, fragment_alternatives):
    """Lines the layout joined from several fragments get their fragments'
    alternatives, each spelled out as the whole line."""
    if not any(fragment_alternatives.values()):
        return lines
    result = []
    for line in lines:
        if id(line) in fragment_alternatives or line.alternatives:
            result.append(line)  # a fragment on its own
            continue
        parts = sorted(
            (
                f
                for f in fragments
                if f.box.x >= line.box.x
                and f.box.y >= line.box.y
                and f.box.right <= line.box.right
                and f.box.bottom <= line.box.bottom
            ),
            key=lambda f: f.box.x,
        )
        if len(parts) > 1 and " ".join(f.text for f in parts) == line.text:
            alternatives = joined_alternatives([(f.text, fragment_alternatives[id(f)]) for f in parts])
            if alternatives:
                line = replace(line, alternatives=alternatives)
        result.append(line)
    return result
