"""Text burned into screenshots: found and blanked out, and never found in plain scans.

    python -m eval.burned_text --json eval/results/burned_text.json [--data ../shared/data]
        [--split val] [--volumes N]

A clinician's PNG or JPEG is often a screenshot from a viewer, with the patient's name, ID,
date of birth, hospital and series in its corners. `assistant.scan.overlay` finds lines of
glyph-sized bright marks outside the head and the image loader blanks them out. Measured here,
on a split of the data (thresholds were chosen on `train`; report `val`):

- ``text_midaxial``: every mid-axial slice of the split with text drawn on it (seeded: 1-3
  lines of identifiers and acquisition text, Pillow's bundled font at 7-14 px, grey levels
  150-255, one of the four corners), as PNG and as JPEG (quality 75), and the same as a
  screenshot of a 3x zoomed viewer (the slice enlarged, text at 12-20 px): found, and the
  fraction of the drawn text's pixels that were blanked (median over images);
- ``text_native``: three native axial slices of each volume of the split (2 mm, skull on,
  random brain levels) with text the same way;
- ``plain_midaxial`` / ``plain_native`` (and ``_x3``): the same slices without text, the
  native ones at every second brain level: any text found there is a false alarm;
- ``applicability``: how the domain check reads the text images of ``text_midaxial`` (PNG, 1x)
  before (text left in the pixels) and after the blanking, beside the plain slices.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import time
from pathlib import Path

import numpy as np

from assistant.scan import LoadLimits, Scan, load_bytes, load_scan
from assistant.scan.overlay import find_burned_text
from eval import ROOT, portable_path

WORDS = [
    "DOE^JOHN",
    "Smith, Anna M",
    "MRN 00123456",
    "DOB 1958-03-02",
    "F 67Y",
    "Ax T1 SE",
    "Se: 3  Im: 77",
    "TR 500 TE 12",
    "W: 1200 L: 400",
    "St James Hospital",
    "12/03/2024 14:22",
    "Acc# 8812734",
]


def draw_text(
    gray: np.ndarray, rng: random.Random, scale: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(the 8-bit image enlarged `scale` times with 1-3 lines of text in one corner, the
    drawn text's pixel mask)."""
    from PIL import Image, ImageDraw, ImageFont

    im = Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8))
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.BILINEAR)
    canvas = Image.new("L", im.size, 0)
    pen, ink = ImageDraw.Draw(im), ImageDraw.Draw(canvas)
    size = rng.choice([7, 8, 9, 10, 12, 14]) + (6 if scale > 1 else 0)
    font = ImageFont.load_default(size=size)
    fill = rng.choice([255, 230, 200, 150])
    n_lines = rng.choice([1, 2, 3])
    corner = rng.choice(["tl", "tr", "bl", "br"])
    for i in range(n_lines):
        text = rng.choice(WORDS)
        width = pen.textlength(text, font=font)
        x = 2 if corner[1] == "l" else max(0, im.width - width - 2)
        step = size + 3
        y = 2 + i * step if corner[0] == "t" else im.height - (n_lines - i) * step - 2
        pen.text((x, y), text, fill=fill, font=font)
        ink.text((x, y), text, fill=255, font=font)
    return np.asarray(im, np.float32), np.asarray(canvas) > 64


def encoded(pixels: np.ndarray, kind: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    im = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    im.save(buf, format="PNG" if kind == "png" else "JPEG", quality=75)
    return buf.getvalue()


class Tally:
    def __init__(self) -> None:
        self.found: list[bool] = []
        self.blanked: list[float] = []
        self.seconds: list[float] = []

    def add(self, pixels: np.ndarray, drawn: np.ndarray | None = None) -> None:
        t0 = time.perf_counter()
        text = find_burned_text(pixels)
        self.seconds.append(time.perf_counter() - t0)
        self.found.append(text is not None)
        if drawn is not None and drawn.any():
            covered = 0.0 if text is None else float((text.mask & drawn).sum() / drawn.sum())
            self.blanked.append(covered)

    def summary(self) -> dict:
        out = {"n": len(self.found), "found": int(sum(self.found))}
        out["found_rate"] = round(out["found"] / max(1, out["n"]), 4)
        if self.blanked:
            out["median_fraction_of_text_pixels_blanked"] = round(
                statistics.median(self.blanked), 4
            )
            out["images_with_90pct_of_text_blanked"] = round(
                float(np.mean(np.array(self.blanked) >= 0.9)), 4
            )
        return out


def _eight_bit(scan: Scan) -> np.ndarray:
    from assistant.preprocess import to_unit

    return np.round(255 * to_unit(scan.pixels, window=scan.window)).astype(np.float32)


def _brain_slices(pixels: np.ndarray) -> list[int]:
    hi = np.percentile(pixels, 99)
    area = (pixels > 0.1 * hi).sum(axis=(1, 2))
    return [int(k) for k in np.flatnonzero(area >= 0.05 * area.max())]


def evaluate(data: Path, split: str, volumes: int | None) -> dict:
    from assistant.domain import check_applicability

    rng = random.Random(14)
    t: dict[str, Tally] = {}

    def tally(name: str) -> Tally:
        return t.setdefault(name, Tally())

    verdicts: dict[str, list[bool]] = {"plain": [], "text_before": [], "text_after": []}
    limits = LoadLimits()
    for path in sorted((data / "ixi-t1-midaxial" / split).glob("*.png")):
        gray = np.asarray(load_scan(path).pixels, np.float32)
        tally("plain_midaxial").add(gray)
        tally("plain_midaxial_x3").add(_enlarged(gray, 3))
        marked, drawn = draw_text(gray, rng)
        tally("text_midaxial_png").add(marked, drawn)
        verdicts["plain"].append(check_applicability(Scan(pixels=gray, format="png")).in_domain)
        before = check_applicability(Scan(pixels=marked, format="png"))
        verdicts["text_before"].append(before.in_domain)
        after = load_bytes(encoded(marked, "png"), path.name, limits)
        verdicts["text_after"].append(check_applicability(after).in_domain)
        marked, drawn = draw_text(gray, rng)
        tally("text_midaxial_jpeg").add(_unblanked_jpeg(marked), drawn)
        marked, drawn = draw_text(gray, rng, scale=3)
        tally("text_midaxial_x3").add(marked, drawn)
    folder = data / "ixi-hh-t1-2mm" / split
    for path in sorted(folder.glob("*.nii*"))[:volumes]:
        scan = load_scan(path)
        levels = _brain_slices(scan.pixels)
        for k in levels[::2]:
            gray = _eight_bit(scan.slice2d(k))
            tally("plain_native").add(gray)
            tally("plain_native_x3").add(_enlarged(gray, 3))
        for k in rng.sample(levels, 3):
            gray = _eight_bit(scan.slice2d(k))
            marked, drawn = draw_text(gray, rng)
            tally("text_native").add(marked, drawn)
    seconds = [s for x in t.values() for s in x.seconds]
    n = len(verdicts["plain"])
    return {
        "split": split,
        "classes": {name: x.summary() for name, x in t.items()},
        "applicability_midaxial_png": {
            "n": n,
            "accepted_plain": int(sum(verdicts["plain"])),
            "accepted_with_text_left_in": int(sum(verdicts["text_before"])),
            "accepted_with_text_blanked_by_the_loader": int(sum(verdicts["text_after"])),
        },
        "median_ms_per_image": round(1000 * statistics.median(seconds), 2),
        "data": portable_path(data),
    }


def _enlarged(gray: np.ndarray, scale: int) -> np.ndarray:
    from PIL import Image

    im = Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8))
    return np.asarray(im.resize((im.width * scale, im.height * scale), Image.BILINEAR), np.float32)


def _unblanked_jpeg(pixels: np.ndarray) -> np.ndarray:
    """The pixels of `pixels` saved as JPEG (quality 75) and decoded, without the loader's
    blanking: what `find_burned_text` sees in a JPEG."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(encoded(pixels, "jpeg"))).convert("L"), np.float32)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.burned_text", description=__doc__)
    p.add_argument("--json", type=Path, required=True)
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--split", default="val", choices=["train", "val", "holdout"])
    p.add_argument("--volumes", type=int, default=None, help="at most N volumes of the split")
    args = p.parse_args(argv)
    result = evaluate(args.data, args.split, args.volumes)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
