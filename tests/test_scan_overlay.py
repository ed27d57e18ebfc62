"""Text burned into a PNG or JPEG (a viewer's screenshot with the patient's name, ID and date
in its corners): the loader finds it outside the head, blanks it out and says so, and the app
shows the note; plain scans and single marks are left as they are."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from assistant.domain import check_applicability
from assistant.examples import EXAMPLES_DIR
from assistant.scan import LoadLimits, load_bytes, load_scan
from assistant.scan.overlay import BURNED_IN_TEXT, TEXT_NOTE_START, find_burned_text

LINES = ("DOE^JOHN 1958-03-02", "MRN 00123456")


def _png(pixels: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buf, fmt, quality=80)
    return buf.getvalue()


def _with_text(gray: np.ndarray, scale: int = 3, fill: int = 255) -> tuple[np.ndarray, np.ndarray]:
    """The slice enlarged `scale` times (a zoomed viewer) with two lines of identifiers in the
    top left corner and one in the bottom right; and the drawn text's pixel mask."""
    im = Image.fromarray(gray.astype(np.uint8))
    im = im.resize((im.width * scale, im.height * scale), Image.BILINEAR)
    ink = Image.new("L", im.size, 0)
    font = ImageFont.load_default(size=14)
    for draw, value in ((ImageDraw.Draw(im), fill), (ImageDraw.Draw(ink), 255)):
        for i, line in enumerate(LINES):
            draw.text((4, 4 + 18 * i), line, fill=value, font=font)
        draw.text((im.width - 150, im.height - 20), "St James Hospital", fill=value, font=font)
    return np.asarray(im, np.float32), np.asarray(ink) > 64


def _example(name: str = "mni_normal.png") -> np.ndarray:
    return np.asarray(load_scan(EXAMPLES_DIR / name).pixels, np.float32)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_identifiers_in_the_corners_are_blanked_out_with_a_note(fmt):
    plain = _example()
    marked, ink = _with_text(plain)
    scan = load_bytes(_png(marked, fmt), f"shot.{fmt.lower()}", LoadLimits())
    note = next(n for n in scan.notes if n.startswith(TEXT_NOTE_START))
    assert "3 line(s)" in note and "top left" in note and "bottom right" in note
    assert "identifiers" in note and scan.metadata[BURNED_IN_TEXT] >= 20
    air = np.percentile(scan.pixels, 10)
    assert np.all(scan.pixels[ink] <= air + 30)  # every drawn letter is gone
    enlarged = np.asarray(
        Image.fromarray(plain.astype(np.uint8)).resize(ink.shape[::-1], Image.BILINEAR)
    )
    if fmt == "PNG":  # the head itself is untouched
        head = enlarged > 40
        assert np.array_equal(scan.pixels[head & ~ink], marked[head & ~ink])
    assert find_burned_text(scan.pixels) is None  # nothing left to find


def test_a_screenshot_with_text_is_checked_like_the_scan_without_it():
    """Left in, the letters move the slice away from the training slices (its typicality
    rises); blanked out by the loader, the screenshot reads like the slice without text."""
    from assistant.scan import Scan

    plain = _example()
    marked, _ = _with_text(plain, scale=1)
    shot = load_bytes(_png(marked), "shot.png", LoadLimits())
    assert shot.metadata.get(BURNED_IN_TEXT)
    as_is = check_applicability(load_bytes(_png(plain), "plain.png", LoadLimits()))
    left_in = check_applicability(Scan(pixels=marked, format="png"))
    blanked = check_applicability(shot)
    assert blanked.in_domain == as_is.in_domain
    assert blanked.typicality == pytest.approx(as_is.typicality, abs=0.1)
    assert left_in.typicality > as_is.typicality + 0.3


@pytest.mark.parametrize(
    "name", ["mni_normal.png", "mni_left_hyperintense.png", "mni_right_ring.png"]
)
def test_plain_scans_and_single_marks_are_left_as_they_are(name):
    plain = _example(name)
    scan = load_bytes(_png(plain), name, LoadLimits())
    assert BURNED_IN_TEXT not in scan.metadata
    assert not any(n.startswith(TEXT_NOTE_START) for n in scan.notes)
    assert np.array_equal(scan.pixels, plain)
    # an orientation marker ("R") and a scale bar are not text lines
    im = Image.fromarray(plain.astype(np.uint8))
    draw = ImageDraw.Draw(im)
    draw.text((4, 4), "R", fill=255, font=ImageFont.load_default(size=14))
    draw.line((4, im.height - 6, 40, im.height - 6), fill=255, width=2)
    assert find_burned_text(np.asarray(im, np.float32)) is None
    # the native volume's slices (air, neck, eyes) read no text either
    volume = load_scan(EXAMPLES_DIR / "mni_left_volume.nii.gz")
    for k in range(volume.pixels.shape[0]):
        assert find_burned_text(volume.slice2d(k).pixels) is None


def test_the_app_says_that_text_was_blanked_out(tmp_path):
    from test_app_support import tiny_callbacks

    marked, _ = _with_text(_example())
    path = tmp_path / "screenshot.png"
    path.write_bytes(_png(marked))
    cb, det = tiny_callbacks(tmp_path)
    out = cb.on_upload(str(path), *det, None, 0.5, None)
    assert "Text burned into the image (" in out["score"]
    assert "was blanked out before anything read it" in out["score"]
    out["session"].close()


def test_assistant_ask_says_that_text_was_blanked_out(tmp_path, capsys):
    """The CLI says it too: a note on stderr beside the plain answer, and the note in the
    JSON's scan (None for a scan without text)."""
    import json

    from assistant.cli import main

    marked, _ = _with_text(_example())
    shot = tmp_path / "screenshot.png"
    shot.write_bytes(_png(marked))
    plain = tmp_path / "plain.png"
    plain.write_bytes(_png(_example()))
    args = ["Is there an abnormality?", "--no-detector", "--no-retrieval"]
    assert main(["ask", str(shot), *args]) == 0
    err = capsys.readouterr().err
    assert "note: text burned into the image (" in err and "was blanked out" in err
    assert main(["ask", str(shot), *args, "--json"]) == 0
    note = json.loads(capsys.readouterr().out)["analysis"]["scan"]["text_blanked"]
    assert note.startswith(TEXT_NOTE_START) and "DOE" not in note
    assert main(["ask", str(plain), *args, "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["analysis"]["scan"]["text_blanked"] is None
    assert "blanked" not in captured.err
