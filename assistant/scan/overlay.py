"""Text burned into a 2D image: found, and blanked out before anything reads the pixels.

A PNG or JPEG exported from a viewer (a screenshot) often carries its annotations in the
corners: the patient's name, an ID, a date of birth, the hospital, the series and window. They
can identify the patient, and the detector would read the letters as tissue. `find_burned_text`
looks, outside the head, for lines of glyph-sized bright marks (at least `MIN_GLYPHS` marks of a
similar height side by side, like letters on a line); `blank_marks` sets those marks to the
image's air value. The loader of plain images does both and says so in a note, so the text
never reaches the detector, a responder's prompt, a report or the displayed image.

What is not found: text drawn over the head itself, a single letter (an orientation marker
such as "R"), text darker than the air, and coloured marks (those are refused by the
applicability check as colour). The thresholds were chosen on training slices with text drawn
on them and on native training slices at every level (`python -m eval.burned_text`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

BURNED_IN_TEXT = "BurnedInText"  # the metadata key: how many characters were blanked out
TEXT_NOTE_START = "text burned into the image"  # how the loader's note begins
MIN_GLYPHS = 4  # marks side by side on one line: a word or a date, not specks or an "R"
BRIGHT = 0.35  # a mark is brighter than this fraction of the image's (0.5, 99.5)% range
HEAD = 0.1  # the head (largest bright component) is above this fraction
AWAY = 0.01  # marks at least this fraction of the image's size away from the head
MIN_HEIGHT_PX = 4  # a glyph is at least this tall (5 px capitals at the smallest fonts)
MIN_AREA_PX = 5
MAX_HEIGHT = 0.08  # and at most this fraction of the image height (+3 px)
MAX_WIDTH = 0.15  # and of its width (+3 px): a word run together is still a mark
GAP = 2.0  # marks of one word or line are at most this many glyph heights apart


class _Glyph(NamedTuple):
    """One glyph-sized mark: its label and box (rows y0..y1, columns x0..x1)."""

    label: int
    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def y(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass
class BurnedText:
    """Marks read as text: a boolean mask of their lines' pixels outside the head (each
    line's box, grown over the marks next to it, and one pixel more), how many glyphs in how
    many lines, and where ("top left", ...)."""

    mask: np.ndarray
    glyphs: int
    lines: int
    where: list[str]

    def note(self) -> str:
        places = " and ".join(self.where)
        return (
            f"{TEXT_NOTE_START} ({self.glyphs} characters in {self.lines} line(s) "
            f"outside the head, {places}) was blanked out before anything read it: a "
            "screenshot's annotations can carry the patient's name and other identifiers, and "
            "the detector would read the letters as tissue"
        )


def find_burned_text(gray: np.ndarray) -> BurnedText | None:
    """The text burned into the 2D grey image `gray` outside the head, or None (module
    docstring)."""
    from scipy import ndimage as ndi

    a = np.asarray(gray, dtype=np.float64)
    if a.ndim != 2 or min(a.shape) < 16 or not np.isfinite(a).all():
        return None
    lo, hi = np.percentile(a, [0.5, 99.5])
    if hi - lo <= 0:
        return None
    u = (a - lo) / (hi - lo)
    h, w = u.shape
    fg = ndi.binary_opening(u > HEAD, iterations=2)  # strokes of text come off the head
    lab, n = ndi.label(fg)
    if n == 0:
        return None
    sizes = ndi.sum(fg, lab, range(1, n + 1))
    head = lab == 1 + int(np.argmax(sizes))
    head = ndi.binary_fill_holes(head)
    away = ndi.distance_transform_edt(~head) >= AWAY * max(h, w)
    marks, _ = ndi.label((u > BRIGHT) & away, structure=np.ones((3, 3)))
    glyphs = []
    for k, box in enumerate(ndi.find_objects(marks), start=1):
        if box is None:
            continue
        gh, gw = box[0].stop - box[0].start, box[1].stop - box[1].start
        area = int((marks[box] == k).sum())
        if (
            area >= MIN_AREA_PX
            and MIN_HEIGHT_PX <= gh <= MAX_HEIGHT * h + 3
            and gw <= MAX_WIDTH * w + 3
        ):
            glyphs.append(_Glyph(k, box[0].start, box[0].stop, box[1].start, box[1].stop))
    lines = _lines(glyphs)
    if not lines:
        return None
    # each line's box, grown along the line over every bright mark next to it (the parts of
    # a date or a name that lie close to the head, punctuation); its pixels outside the head
    # are the text's
    loose, _ = ndi.label((u > BRIGHT) & ~head, structure=np.ones((3, 3)))
    boxes = [b for b in ndi.find_objects(loose) if b is not None]
    by_id = {g.label: g for g in glyphs}
    mask = np.zeros_like(head)
    where = []
    for line in lines:
        gs = [by_id[k] for k in line]
        tall = float(np.median([g.height for g in gs]))
        y0, y1 = min(g.y0 for g in gs), max(g.y1 for g in gs)
        x0, x1 = min(g.x0 for g in gs), max(g.x1 for g in gs)
        grown = True
        while grown:
            grown = False
            for b in boxes:
                if b[0].stop <= y0 or b[0].start >= y1 or b[0].stop - b[0].start > 2 * tall + 2:
                    continue  # not on this line, or a larger structure crossing it
                if b[1].start >= x0 and b[1].stop <= x1:
                    continue
                if b[1].stop >= x0 - GAP * tall and b[1].start <= x1 + GAP * tall:
                    x0, x1 = min(x0, b[1].start), max(x1, b[1].stop)
                    y0, y1 = min(y0, b[0].start), max(y1, b[0].stop)
                    grown = True
        mask[max(0, y0 - 1) : y1 + 1, max(0, x0 - 1) : x1 + 1] = True
        y, x = (y0 + y1) / 2, (x0 + x1) / 2
        place = f"{'top' if y < h / 2 else 'bottom'} {'left' if x < w / 2 else 'right'}"
        if place not in where:
            where.append(place)
    mask &= ~head
    keep = sorted({k for line in lines for k in line})
    return BurnedText(mask=mask, glyphs=len(keep), lines=len(lines), where=where)


def _lines(glyphs: list[_Glyph]) -> list[list[int]]:
    """Runs of at least `MIN_GLYPHS` glyphs on one line: vertical centres within half a
    height, heights within a factor 2, each within `GAP` heights of the previous one."""
    lines, used = [], set()
    for seed in sorted(glyphs, key=lambda g: g.y):
        row = sorted(
            (
                g
                for g in glyphs
                if abs(g.y - seed.y) <= max(2.0, seed.height / 2)
                and 0.5 <= g.height / seed.height <= 2
            ),
            key=lambda g: g.x0,
        )
        run: list[_Glyph] = []
        for g in row:
            if run and g.x0 - run[-1].x1 > GAP * max(g.height, run[-1].height):
                _keep(run, lines, used)
                run = []
            run.append(g)
        _keep(run, lines, used)
    return lines


def _keep(run: list[_Glyph], lines: list[list[int]], used: set) -> None:
    ids = [g.label for g in run]
    if len(ids) >= MIN_GLYPHS and not used.intersection(ids):
        lines.append(ids)
        used.update(ids)


def blank_marks(gray: np.ndarray, found: BurnedText) -> np.ndarray:
    """A copy of `gray` with the text's pixels set to the image's air value (the median of
    its darkest tenth)."""
    out = np.array(gray, copy=True)
    air = np.median(out[out <= np.percentile(out, 10)])
    out[found.mask] = air.astype(out.dtype)
    return out


def blanked_text_note(notes) -> str:
    """The loader's note that text burned into the image was blanked out (`BurnedText.note`)
    among a scan's `notes`, or "": the app, `assistant ask` and its JSON all show it."""
    return next((str(n) for n in notes or () if str(n).startswith(TEXT_NOTE_START)), "")
