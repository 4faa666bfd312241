"""Does a second pass over weak lines pay? Measured, not shipped.

    .venv/bin/python bench/quality/second_pass.py

For each line the engine reads with a calibrated confidence under the review
threshold (``INKDEX_REVIEW_THRESHOLD``, 75 by default; notes of
the tuning seeds, typical and hard tiers), its crop (with a margin) is read again
by the recogniser alone after each enhancement: autocontrast, histogram
equalisation, 2x upscaling + autocontrast, unsharp mask + autocontrast. Counts:
lines the variant alone gets right that the first pass got wrong ("fixed") and
the reverse ("broken"); and the same when the variant's reading replaces the
first one only if its calibrated confidence is higher ("pick_*"), as a second
pass would. Result on 2026-11-25: every variant breaks far more lines than it
fixes (e.g. autocontrast: 1 fixed, 17 broken when picked), so Inkdex has no
second pass; alternatives and fuzzy search recover misreadings instead.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notes_site.settings")
import _common  # noqa: E402 - also puts the project on sys.path

os.environ.setdefault("INKDEX_DATA_DIR", str(_common.PROJECT_DIR / "var" / "bench"))
import django  # noqa: E402

django.setup()
import numpy as np  # noqa: E402
from corpus import draw_note  # noqa: E402
from PIL import Image, ImageFilter, ImageOps  # noqa: E402
from rapidocr import RapidOCR  # noqa: E402
from score import RecLine, align, words  # noqa: E402

from ocr_app.engines.base import RecognizedLine  # noqa: E402
from ocr_app.engines.confidence import calibrated_confidence  # noqa: E402
from ocr_app.engines.rapidocr_engine import RapidOcrEngine  # noqa: E402
from ocr_app.review_rule import review_threshold  # noqa: E402

eng = RapidOcrEngine()
# A second instance for crops: RapidOCR remembers use_det=False for later calls.
ocr = RapidOCR(params={"Global.log_level": "warning"})
def variants(crop):
    g = crop.convert("L")
    yield "auto", ImageOps.autocontrast(g, cutoff=2).convert("RGB")
    yield "eq", ImageOps.equalize(g).convert("RGB")
    big = g.resize((g.width*2, g.height*2), Image.LANCZOS)
    yield "up2auto", ImageOps.autocontrast(big, cutoff=2).convert("RGB")
    yield "sharp", ImageOps.autocontrast(g.filter(ImageFilter.UnsharpMask(2, 150, 3)), cutoff=2).convert("RGB")
stats = {}
t_first = t_second = 0
for seed in (1, 2):
    for tier in ("typical", "hard"):
        for i in range(10):
            truth = draw_note(seed*1000+i, tier)
            img = truth.image.convert("RGB")
            t=time.perf_counter(); rec = eng.recognize(img); t_first += time.perf_counter()-t
            recl = [RecLine(l.text, l.confidence, (l.box.x,l.box.y,l.box.width,l.box.height), False) for l in rec.lines]
            for l, m in zip(rec.lines, align(truth, recl)):
                if m is None or l.confidence >= review_threshold(): continue
                gt = words(truth.lines[m])
                ok0 = words(l.text) == gt
                pad = int(l.box.height*0.3)
                crop = img.crop((max(0,l.box.x-pad), max(0,l.box.y-pad), min(img.width,l.box.right+pad), min(img.height,l.box.bottom+pad)))
                for name, v in variants(crop):
                    t=time.perf_counter()
                    out = ocr(np.array(v), use_det=False, use_cls=False, use_rec=True)
                    t_second += time.perf_counter()-t
                    txt = out.txts[0] if out.txts else ""
                    sc = float(out.scores[0]) if out.scores else 0
                    cand = RecognizedLine(txt, sc*100, l.box)
                    c = calibrated_confidence(cand)
                    ok1 = words(txt) == gt
                    s = stats.setdefault(name, {"n":0,"fixed":0,"broken":0,"pick_fixed":0,"pick_broken":0,"cand_ok":0})
                    s["n"]+=1; s["fixed"]+= (ok1 and not ok0); s["broken"]+=(ok0 and not ok1); s["cand_ok"]+=ok1
                    if c > l.confidence and words(txt) != words(l.text):
                        s["pick_fixed"] += (ok1 and not ok0); s["pick_broken"] += (ok0 and not ok1)
for k,v in stats.items(): print(k, v)
print("first pass s", t_first, "second pass s", t_second)
