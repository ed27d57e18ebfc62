"""The app's non-UI helpers: configuration, sensitivity, views (no server, no browser)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from assistant_fixtures import LEFT_BRIGHT, RIGHT_DARK, scan_summary, synthetic_result
from PIL import Image

from assistant.analysis import CaseState, build_evidence
from assistant.chat import Assistant
from assistant.responders.grounded import GroundedResponder
from assistant.ui import views
from assistant.ui.config import AppConfig, parse_config
from assistant.ui.engine import rethreshold


def make_state(lesions, hits=()) -> CaseState:
    result = synthetic_result(lesions)
    summary = scan_summary()
    return CaseState(
        scan_hash="cd" * 32,
        slice_index=None,
        scan_summary=summary,
        result=result,
        hits=list(hits),
        knowledge=[],
        evidence=build_evidence(result, summary, hits),
        timings={"total_s": 0.25},
    )


def test_config_defaults_environment_and_flags():
    assert parse_config([], {}) == AppConfig()
    env = {
        "GRADIO_SERVER_NAME": "0.0.0.0",
        "GRADIO_SERVER_PORT": "7000",
        "ASSISTANT_RESPONDER": "transformers",
        "ASSISTANT_MODEL": "google/medgemma-4b-it",
        "ASSISTANT_QUANTIZATION": "4bit",
        "ASSISTANT_DETECTOR": "/models/det",
        "ASSISTANT_RETRIEVAL": "0",
    }
    cfg = parse_config([], env)
    assert (cfg.host, cfg.port, cfg.responder, cfg.model, cfg.quantization) == (
        "0.0.0.0",
        7000,
        "transformers",
        "google/medgemma-4b-it",
        "4bit",
    )
    assert cfg.detector == "/models/det" and cfg.retrieval is False
    cfg = parse_config(["--port", "7100", "--responder", "openai", "--concurrency", "2"], env)
    assert (cfg.port, cfg.responder, cfg.analysis_concurrency) == (7100, "openai", 2)
    with pytest.raises(SystemExit):
        parse_config(["--quantization", "3bit"], {})


def test_rethreshold_more_sensitive_finds_more():
    r = synthetic_result([LEFT_BRIGHT, RIGHT_DARK], threshold=0.25)
    # sensitivity 0.25/0.35: pixel threshold 0.1 -> 0.14, seed (image threshold) 0.25 -> 0.35,
    # between the dark (peak 0.3) and bright (0.4) lesions: only the bright one stays, whole
    strict = rethreshold(r, 0.25 / 0.35, (0.9, 1.2), "image_left", grid_size=64)
    assert strict.pixel_threshold == pytest.approx(0.14)
    assert strict.score_threshold == pytest.approx(0.35)
    assert [f.intensity for f in strict.findings] == ["hyperintense"]
    r0, c0, n = LEFT_BRIGHT["row"], LEFT_BRIGHT["col"], LEFT_BRIGHT["size"]
    assert strict.findings[0].bbox == (r0, c0, r0 + n, c0 + n)
    loose = rethreshold(r, 2.0, (0.9, 1.2), "image_left", grid_size=64)
    assert len(loose.findings) == 2 and loose.mask.sum() > strict.mask.sum()
    assert loose.score_threshold == pytest.approx(0.25 / 2)
    assert loose.params["sensitivity"] == 2.0
    assert rethreshold(r, 1.0, None, None, 64) is r
    with pytest.raises(ValueError, match="sensitivity"):
        rethreshold(r, 0.0, None, None, 64)


def test_overlay_comparison_and_tables():
    state = make_state([LEFT_BRIGHT, RIGHT_DARK])
    r = replace(state.result, score=float(state.result.anomaly_map.max()))  # as detected
    ov = views.overlay_image(r, opacity=0.8)
    assert ov.dtype == np.uint8 and ov.shape[0] == 64 and ov.shape[1] > 80  # + colour bar
    r0, c0 = LEFT_BRIGHT["row"] + 3, LEFT_BRIGHT["col"] + 3
    assert abs(int(ov[r0, c0, 0]) - int(ov[r0, c0, 2])) > 40  # coloured inside the lesion
    assert (ov[2, 2] == ov[2, 2, 0]).all()  # grey outside the head
    faint = views.overlay_image(r, opacity=0.0)
    assert (faint[r0, c0] == faint[r0, c0, 0]).all()
    with pytest.raises(ValueError, match="opacity"):
        views.overlay_image(r, 1.5)
    orig, pseudo = views.comparison(r)
    assert orig.shape == pseudo.shape == (64, 80, 3)
    assert orig[r0, c0, 0] > pseudo[r0, c0, 0]  # the bright lesion is repaired

    rows = views.findings_rows(r)
    assert [row[:2] for row in rows] == [["F1", "finding"], ["F2", "finding"]]
    assert rows[0][2] == "left" and rows[0][5] == "hyperintense" and rows[0][6] == 0.8
    assert rows[0][4] == f"{8 * 8 * 0.9 * 1.2:.0f} mm²"
    assert len(views.FINDING_HEADERS) == len(rows[0])
    md = views.score_markdown(state)
    assert "0.9" in md and "**above**" in md and "2 finding(s)" in md
    assert "Sizes in mm² (pixel spacing 0.9 × 1.2 mm, from the file)" in md
    weak = replace(r, weak_findings=[replace(r.findings[1], id="W1")])
    assert [row[:2] for row in views.findings_rows(weak)] == [
        ["F1", "finding"],
        ["F2", "finding"],
        ["W1", "weak: below the image threshold"],  # the id alone: it never wraps
    ]
    unreliable = views.findings_rows(weak.as_unreliable())
    assert [row[1] for row in unreliable][-1] == "weak: below the image threshold, UNRELIABLE"


def test_small_images_are_enlarged_for_display_keeping_the_aspect():
    """A 64x80 result is shown 4x larger (nearest neighbour: each pixel a 4x4 square); the API
    (side 0) keeps the image's own size; large images are not enlarged."""
    r = make_state([LEFT_BRIGHT]).result
    assert views.display_scale((64, 80)) == 4 and views.display_scale((233, 197)) == 1
    assert views.display_scale((64, 80), side=0) == 1 and views.display_scale((1024, 900)) == 1
    ov = views.overlay_image(r, 0.5, side=views.DISPLAY_SIDE)
    assert ov.shape[0] == 4 * 64 and ov.shape[1] > 4 * 80
    plain = replace(r, mask=np.zeros_like(r.mask))  # the outline is drawn at display size
    ov, native = (views.overlay_image(plain, 0.5, side) for side in (views.DISPLAY_SIDE, 0))
    np.testing.assert_array_equal(ov[: 4 * 64 : 4, : 4 * 80 : 4], native[:64, :80])
    orig, pseudo = views.comparison(r, side=views.DISPLAY_SIDE)
    assert orig.shape == pseudo.shape == (256, 320, 3)
    assert (orig[:4, :4] == orig[0, 0]).all()  # one pixel, a 4x4 square


def test_colour_bar_top_is_the_reported_score():
    """The colour bar runs up to the image score that the score line reports (the map's
    maximum), and marks the score and the image threshold."""
    r = make_state([LEFT_BRIGHT, RIGHT_DARK]).result
    r = replace(r, score=float(r.anomaly_map.max()))  # as the detector computes it
    vmin, vmax = views.display_range(r)
    assert vmin == pytest.approx(0.05) and vmax == pytest.approx(r.score)
    low = replace(r, score=0.06)  # a weak map: not painted at full scale, but up to the
    assert views.display_range(low)[1] == pytest.approx(r.score_threshold)  # image threshold
    ov = views.overlay_image(r, 0.5)
    bar = ov[:, 80 + 4 : 80 + 16]  # the ramp: brightest (vmax) at the top
    assert bar[0].astype(int).sum() > bar[-1].astype(int).sum()
    thr_row = int(round((1 - (r.score_threshold - vmin) / (vmax - vmin)) * 63))
    assert (np.abs(ov[thr_row, 80 + 2 : 80 + 18].astype(int) - [0, 255, 255]).sum(1) < 5).any()


def test_comparison_slider_starts_right_of_the_top_finding():
    """The original is left of the slider: it starts right of F1 (never left of the middle),
    so that the lesion is seen, not its repair."""
    r = make_state([RIGHT_DARK, LEFT_BRIGHT]).result  # F1: the right one
    right_edge = 100 * (RIGHT_DARK["col"] + RIGHT_DARK["size"]) / 80
    assert right_edge > 50 and right_edge < views.slider_position(r) <= right_edge + 5
    left = make_state([LEFT_BRIGHT]).result  # F1 in the left half: the middle shows it
    assert views.slider_position(left) == 50.0
    assert views.slider_position(replace(r, findings=[])) == 50.0
    assert views.slider_position(None) == 50.0


def test_sizes_say_pixels_of_the_original_without_a_spacing():
    result = synthetic_result([LEFT_BRIGHT], spacing=None)
    summary = scan_summary(spacing=None)
    state = CaseState(
        scan_hash="ef" * 32,
        slice_index=None,
        scan_summary=summary,
        result=result,
        hits=[],
        knowledge=[],
        evidence=build_evidence(result, summary, []),
        timings={},
    )
    assert views.findings_rows(result)[0][4] == "64 px"
    note = views.size_note(state)
    assert note.startswith("sizes in pixels of the original 64 × 80 image")
    assert "depend on its resolution" in note
    assert "sizes in pixels of the 64 × 80 original" in views.findings_caption(state, "a.png")
    assert "Sizes in pixels of the original 64 × 80 image" in views.score_markdown(state, "a.png")
    user = {**summary, "spacing_mm": [0.5, 0.5], "notes": ["pixel spacing given by the user: x"]}
    state.scan_summary = user
    assert views.size_note(state) == "sizes in mm² (pixel spacing 0.5 × 0.5 mm, given by the user)"
    assert views.analysis_dict(state, 0, "a.png")["sizes"]["spacing_source"] == "user"


def test_answer_footer_names_the_file_and_is_not_sent_back():
    from assistant.ui.callbacks import plain_history

    state = make_state([LEFT_BRIGHT])
    state.slice_index, state.scan_summary = 4, {**state.scan_summary, "source_shape": [9, 64, 80]}
    footer = views.answer_footer("head.nii.gz", state)
    assert footer == "\n\n*About `head.nii.gz`, axial slice 4 of 9.*"
    hist = [{"role": "assistant", "content": "Left [F1]." + footer}]
    assert plain_history(hist) == [{"role": "assistant", "content": "Left [F1]."}]
    assert views.download_stem("head.nii.gz", state) == "head_slice4"
    assert views.download_stem("my scan (1).PNG", None) == "my_scan_1"
    assert views.scan_title("head.nii.gz", state) == "head.nii.gz · axial slice 4 of 9"


def test_cases_gallery_and_answers(tmp_path):
    from retrieval.hit import Hit

    img = tmp_path / "case.png"
    Image.fromarray(np.full((300, 200), 90, np.uint8)).save(img)
    hits = [
        Hit(
            "case-1",
            0.81,
            findings="Left lesion.",
            excerpt="Report...",
            synthetic=True,
            image_path=str(img),
        ),
        Hit("case-2", 0.52, findings="Normal.", synthetic=False, image_path=None),
    ]
    state = make_state([LEFT_BRIGHT], hits)
    rows = views.case_rows(state)
    assert rows[0][:4] == ["C1", "case-1", 0.81, "yes"] and rows[1][3] == "no"
    items = views.gallery_items(state)
    assert len(items) == 1 and max(items[0][0].shape[:2]) == 256
    assert items[0][1] == "C1 case-1 · similarity 0.81 · SYNTHETIC"
    assert "Are there similar cases?" in views.suggested_questions(state)

    answer = Assistant(responder=GroundedResponder()).answer(state, "Are there similar cases?")
    md = views.evidence_markdown(answer, state.evidence)
    assert "[C1]" in md and "(synthetic case)" in md
    data = views.analysis_dict(state)
    assert data["cases"][0]["id"] == "case-1" and data["findings"][0]["id"] == "F1"
    d = views.evidence_dict(answer, state.evidence)
    assert [e["id"] for e in d["evidence"]] == answer.evidence and d["evidence"][0]["synthetic"]


def test_chat_history_is_reduced_to_text():
    from assistant.ui.callbacks import plain_history

    hist = [
        {"role": "user", "content": [{"type": "text", "text": "Which side?"}]},
        {"role": "assistant", "content": "Left [F1]."},
        {"role": "system", "content": "ignored"},
    ]
    assert plain_history(hist) == [
        {"role": "user", "content": "Which side?"},
        {"role": "assistant", "content": "Left [F1]."},
    ]


def test_session_files_live_in_its_own_folder_until_closed():
    from pathlib import Path

    from assistant.ui.engine import Session, session_file

    a, b = Session(), Session()
    assert a.folder != b.folder
    path = Path(session_file(a, "draft_findings.md", "# Draft"))
    assert path.parent == Path(a.folder) and path.read_text() == "# Draft"
    a.close()
    assert not Path(a.folder).exists() and a.state is None and Path(b.folder).is_dir()
    b.close()


def tiny_callbacks(tmp_path):
    """(Callbacks on a tiny detector without components, its default settings)."""
    from assistant.detector.testing import tiny_detector
    from assistant.ui.callbacks import Callbacks
    from assistant.ui.engine import Engine

    cb = Callbacks(Engine(detector=tiny_detector(tmp_path)))  # no components: names as keys
    method, preset, _ = cb.engine.default_settings()
    return cb, (method, preset, 1.0)


def ask(cb, question, session, history=()):
    *_, last = cb.on_ask(question, list(history), "grounded", "", "none", session)
    return last


def test_callbacks_return_outputs_by_name_without_a_browser(tmp_path):
    import gradio as gr

    from assistant.examples import EXAMPLES_DIR
    from assistant.ui.callbacks import ANALYSIS_OUTPUTS, CHAT_OUTPUTS, DRAFT_OUTPUTS
    from assistant.ui.engine import Session

    cb, det = tiny_callbacks(tmp_path)
    settings = (*det, None, 0.5)  # method, preset, sensitivity, pixel spacing, opacity
    with pytest.warns(UserWarning, match="Upload a scan first"):
        assert cb.on_slice(3, *settings, False, None) == gr.skip()
    bad = tmp_path / "notes.txt"
    bad.write_text("not a scan")
    with pytest.warns(UserWarning, match="not a recognised scan format"):
        out = cb.on_upload(str(bad), *settings, None)
    assert set(out) == set(ANALYSIS_OUTPUTS) and out["session"].state is None
    assert out["error"].visible is True and "not a recognised scan format" in out["error"].value
    assert "`notes.txt`" in out["error"].value and "accepted" in out["error"].value

    out = cb.on_upload(str(EXAMPLES_DIR / "mni_left_hyperintense.png"), *settings, None)
    assert set(out) == set(ANALYSIS_OUTPUTS)
    session = out["session"]
    assert session.state is not None and out["findings"]["value"][0][0] == "F1"
    assert session.state.applicability.in_domain and not session.state.unreliable
    assert out["banner"].visible is False and out["anyway"].visible is False
    assert out["error"].visible is False
    assert out["findings"]["label"].startswith("Findings · mni_left_hyperintense.png · sizes in")
    assert out["score"].startswith("`mni_left_hyperintense.png`: Anomaly score")
    assert out["chat"] == [] and out["draft"]["value"] == ""
    shown = Path(out["overlay"]["value"])  # a PNG named after the file: downloads say so
    assert shown.name == "mni_left_hyperintense_heatmap.png"
    assert np.asarray(Image.open(shown)).shape[0] == 233  # large enough: not enlarged
    assert "mni_left_hyperintense.png" in out["overlay"]["label"]
    assert "mni_left_hyperintense.png" in out["compare"]["label"]
    assert 0 < out["compare"]["slider_position"] <= 100
    assert isinstance(session, Session)

    last = ask(cb, "Is there an abnormality?", session)
    assert set(last) == set(CHAT_OUTPUTS) and last["question"] == ""
    assert [m["role"] for m in last["chat"]] == ["user", "assistant"]
    answer = last["chat"][-1]["content"]
    assert "[F1]" in answer and "[F1]" in last["evidence"]
    assert answer.endswith("*About `mni_left_hyperintense.png`.*")
    assert "about mni_left_hyperintense.png" in last["evidence"]

    out = cb.on_draft(session)
    assert set(out) == set(DRAFT_OUTPUTS) and out["draft"]["value"].startswith("# Draft findings")
    assert "mni_left_hyperintense.png" in out["draft"]["label"]
    md, js = out["dl_md"].value["path"], out["dl_json"].value["path"]
    assert Path(md).name == "mni_left_hyperintense_draft_findings.md"
    fhir = out["dl_fhir"].value["path"]
    assert Path(fhir).name == "mni_left_hyperintense_draft_findings.fhir.json"
    assert "mni_left_hyperintense.png" in Path(md).read_text().splitlines()[0]
    assert json.loads(Path(js).read_text())["scan_file"] == "mni_left_hyperintense.png"
    session.close()


def test_a_clear_overtaken_by_a_new_file_does_not_clear_it(tmp_path):
    """Clear the file, then pick an example before the clear's queued analysis event ran: that
    stale event (for the empty box) must not clear the example, whose own event shows it; and
    an analysis event for a file that was replaced meanwhile shows nothing either."""
    import gradio as gr

    from assistant.examples import EXAMPLES_DIR

    cb, det = tiny_callbacks(tmp_path)
    settings = (*det, None, 0.5)
    first = str(EXAMPLES_DIR / "mni_left_hyperintense.png")
    session = cb.on_file(first, None)["session"]
    cb.on_upload(first, *settings, session)
    cb.on_file(None, session)  # cleared: its on_upload(None) is queued ...
    example = str(EXAMPLES_DIR / "mni_right_ring.png")
    cb.on_file(example, session)  # ... and an example is picked before it runs
    assert cb.on_upload(None, *settings, session) == gr.skip()  # the stale clear
    assert cb.on_upload(first, *settings, session) == gr.skip()  # a stale earlier file
    out = cb.on_upload(example, *settings, session)
    assert out["session"].state is not None and "mni_right_ring.png" in out["score"]
    session.close()


def test_clear_then_broken_upload_leaves_no_previous_results(tmp_path):
    """Issue 14: analyse, clear, upload a broken file: the results of the first scan go at
    once, the error stays on the page, and questions are not answered about the first scan."""
    import gradio as gr

    from assistant.examples import EXAMPLES_DIR

    cb, det = tiny_callbacks(tmp_path)
    settings = (*det, None, 0.5)
    session = cb.on_upload(str(EXAMPLES_DIR / "mni_left_hyperintense.png"), *settings, None)[
        "session"
    ]
    assert ask(cb, "Is there an abnormality?", session)["chat"][-1]["content"].startswith("Yes")

    for out in (cb.on_file(None, session), cb.on_upload(None, *settings, session)):  # cleared
        assert out["overlay"]["value"] is None and out["compare"]["value"] is None
        assert out["findings"]["value"] == [] and out["findings"]["label"] == "Findings"
        assert out["chat"] == [] and out["draft"]["value"] == "" and out["cases"]["value"] == []
        assert out["dl_md"].visible is False and out["error"].visible is False
        assert out["score"] == views.NO_SCAN
        assert session.state is None and session.scan is None and session.filename == ""
    text = ask(cb, "Is there an abnormality?", session)["chat"][-1]["content"]
    assert text.startswith("No scan is loaded") and "[F1]" not in text

    broken = tmp_path / "broken.png"
    broken.write_bytes((EXAMPLES_DIR / "mni_left_hyperintense.png").read_bytes()[:200])
    out = cb.on_file(str(broken), session)  # at once, before the file is read
    assert out["findings"]["value"] == [] and out["overlay"]["value"] is None
    assert out["score"].startswith("`broken.png`: reading and analysing")
    with pytest.warns(UserWarning, match="broken.png"):
        out = cb.on_upload(str(broken), *settings, session)
    assert session.state is None and session.filename == "broken.png" and session.error
    assert out["error"].visible is True and "`broken.png`" in out["error"].value
    assert "PNG" in out["error"].value and "No results are shown" in out["error"].value
    assert out["findings"]["value"] == [] and out["overlay"]["value"] is None
    assert "no results" in out["score"] and "mni_left" not in str(out)
    last = ask(cb, "Is there an abnormality?", session)
    text = last["chat"][-1]["content"]
    assert text.startswith("No scan is analysed") and "`broken.png`" in text
    assert "[F1]" not in text and "Yes" not in text and last["evidence"] == ""
    with pytest.warns(UserWarning, match="cannot draft findings"):
        assert cb.on_draft(session) == gr.skip()
    session.close()


def test_replacing_the_file_switches_names_and_results(tmp_path):
    from assistant.examples import EXAMPLES_DIR

    cb, det = tiny_callbacks(tmp_path)
    settings = (*det, None, 0.5)
    a = EXAMPLES_DIR / "mni_left_hyperintense.png"
    b = EXAMPLES_DIR / "mni_right_hypointense.dcm"
    session = cb.on_upload(str(a), *settings, None)["session"]
    first = ask(cb, "Is there an abnormality?", session)["chat"]
    out = cb.on_file(str(b), session)  # an example clicked / another file chosen
    assert out["chat"] == [] and out["findings"]["value"] == [] and session.state is None
    out = cb.on_upload(str(b), *settings, session)
    assert session.filename == "mni_right_hypointense.dcm"
    for key in ("findings", "overlay", "compare", "gallery", "cases"):
        assert "mni_right_hypointense.dcm" in out[key]["label"], key
        assert "mni_left" not in out[key]["label"], key
    assert out["score"].startswith("`mni_right_hypointense.dcm`")
    text = ask(cb, "Is there an abnormality?", session, first)["chat"][-1]["content"]
    assert text.endswith("*About `mni_right_hypointense.dcm`.*")
    session.close()


def test_an_analysis_overtaken_by_a_file_change_is_dropped(tmp_path):
    """The file is cleared while the previous one is still being analysed: its results never
    reach the page or the session."""
    import gradio as gr

    from assistant.examples import EXAMPLES_DIR

    cb, det = tiny_callbacks(tmp_path)
    session = cb.on_file(str(EXAMPLES_DIR / "mni_left_hyperintense.png"), None)["session"]
    analyze = cb.engine.analyze

    def slow_analyze(*args, **kwargs):
        state = analyze(*args, **kwargs)
        cb.on_file(None, session)  # the user clears the file meanwhile
        return state

    cb.engine.analyze = slow_analyze
    path = str(EXAMPLES_DIR / "mni_left_hyperintense.png")
    assert cb.on_upload(path, *det, None, 0.5, session) == gr.skip()
    assert session.state is None and session.scan is None and session.path is None
    session.close()


def test_pixel_spacing_setting_gives_sizes_in_mm(tmp_path):
    """The app's pixel spacing applies to an image without one (sizes in mm², said so) and is
    ignored, with a note, for a DICOM that has its own."""
    from assistant.examples import EXAMPLES_DIR

    cb, det = tiny_callbacks(tmp_path)
    png = str(EXAMPLES_DIR / "mni_left_hyperintense.png")
    out = cb.on_upload(png, *det, None, 0.5, None)
    px = out["findings"]["value"][0][4]
    assert px.endswith(" px") and "Sizes in pixels of the original 233 × 197 image" in out["score"]
    session = out["session"]
    out = cb.on_reanalyse(*det, 0.5, 0.5, False, session)  # spacing 0.5 mm entered
    mm = out["findings"]["value"][0][4]
    assert mm == f"{int(px.split()[0]) * 0.25:.0f} mm²"
    assert "pixel spacing 0.5 × 0.5 mm, given by the user" in out["score"]
    assert session.state.scan_summary["spacing_mm"] == [0.5, 0.5]
    assert session.scan.spacing is None  # the loaded scan is kept as it was
    last = ask(cb, "How big is it?", session)
    assert "mm²" in last["chat"][-1]["content"]

    with pytest.warns(UserWarning, match="pixel spacing -1 mm is out of range"):
        out = cb.on_reanalyse(*det, -1.0, 0.5, False, session)
    assert out["error"].visible and session.state is None and session.scan is not None

    out = cb.on_upload(str(EXAMPLES_DIR / "mni_right_hypointense.dcm"), *det, 0.5, 0.5, None)
    notes = out["session"].state.scan_summary["notes"]
    assert any("own pixel spacing" in n and "applies only to images" in n for n in notes)
    assert "from the file" in out["score"]
    out["session"].close()
    session.close()


def test_a_failed_slice_clears_its_results_but_keeps_the_volume(tmp_path):
    from assistant.examples import EXAMPLES_DIR

    cb, det = tiny_callbacks(tmp_path)
    out = cb.on_upload(str(EXAMPLES_DIR / "mni_left_volume.nii.gz"), *det, None, 0.5, None)
    session = out["session"]
    assert "axial slice 4 of 9" in out["findings"]["label"]
    assert "axial slice 4 of 9" in out["overlay"]["label"]
    with pytest.warns(UserWarning, match="out of range"):
        out = cb.on_slice(99, *det, None, 0.5, False, session)
    assert "slice" not in out and out["error"].visible and out["findings"]["value"] == []
    assert session.state is None and session.scan is not None
    text = ask(cb, "Is there an abnormality?", session)["chat"][-1]["content"]
    assert text.startswith("No scan is analysed") and "slice 99" in text
    out = cb.on_slice(2, *det, None, 0.5, False, session)
    assert out["error"].visible is False and "axial slice 2 of 9" in out["findings"]["label"]
    assert ask(cb, "Is there an abnormality?", session)["chat"][-1]["content"].endswith(
        "*About `mni_left_volume.nii.gz`, axial slice 2 of 9.*"
    )
    session.close()


def test_api_failed_analysis_leaves_nothing_to_ask_about(tmp_path):
    import gradio as gr

    from assistant.examples import EXAMPLES_DIR

    cb, _ = tiny_callbacks(tmp_path)
    out = cb.api_analyze(
        str(EXAMPLES_DIR / "mni_left_hyperintense.png"), -1, False, -1, None, _noop
    )
    session = out["session"]
    assert out["api_json"]["file"] == "mni_left_hyperintense.png"
    assert out["api_json"]["sizes"]["unit"] == "px"
    assert out["api_json"]["series"] is None  # one image: no series to choose from
    bad = tmp_path / "notes.txt"
    bad.write_text("not a scan")
    with pytest.raises(gr.Error):
        cb.api_analyze(str(bad), -1, False, -1, session, _noop)
    assert session.state is None
    with pytest.raises(gr.Error, match="the last /analyze failed.*call /analyze first"):
        next(cb.api_ask("Is there an abnormality?", session))
    session.close()


def _noop(*args, **kwargs):
    return None


def gradient_png(folder) -> str:
    """A smooth horizontal gradient: outside the detector's domain (no head in it)."""
    path = folder / "gradient.png"
    Image.fromarray(np.tile(np.linspace(0, 255, 256), (256, 1)).astype(np.uint8)).save(path)
    return str(path)


def test_callbacks_out_of_domain_banner_and_analyse_anyway(tmp_path):
    """An image outside the detector's domain: a banner with the reasons, no findings, and the
    "Analyse anyway" box; ticked, the results are shown marked UNRELIABLE."""
    from assistant.ui.callbacks import ANALYSIS_OUTPUTS

    cb, (method, preset, _) = tiny_callbacks(tmp_path)
    out = cb.on_upload(gradient_png(tmp_path), method, preset, 1.0, None, 0.5, None)
    session = out["session"]
    st = session.state
    assert set(out) == set(ANALYSIS_OUTPUTS) and session.filename == "gradient.png"
    assert not st.applicability.in_domain and st.result is None and not st.unreliable
    banner = out["banner"]
    assert banner.visible is True and "Outside the detector's domain" in banner.value
    assert "`gradient.png`" in banner.value and st.applicability.reasons[0] in banner.value
    assert "Analyse anyway" in banner.value
    assert out["anyway"].visible is True and out["anyway"].value is False
    assert out["findings"]["value"] == [] and "does not apply" in out["findings"]["label"]
    assert "gradient.png" in out["findings"]["label"]
    assert "does not apply" in out["score"] and "gradient.png" in out["score"]
    shown = Path(out["overlay"]["value"])
    assert shown.name == "gradient_image.png"  # the image itself, no heatmap
    assert np.asarray(Image.open(shown)).shape[:2] == (256, 256)
    *_, last = cb.on_ask("Is there an abnormality?", [], "grounded", "", "none", session)
    assert last["chat"][-1]["content"].startswith("I can't tell") and "[A1]" in last["evidence"]

    out = cb.on_reanalyse(method, preset, 1.0, None, 0.5, True, session)  # "Analyse anyway"
    st = session.state
    assert st.unreliable and st.result is not None and st.result.findings
    assert views.UNRELIABLE in out["banner"].value and out["banner"].visible is True
    assert "analysed anyway" in out["banner"].value and "`gradient.png`" in out["banner"].value
    assert out["anyway"].value is True and out["anyway"].visible is True
    assert out["findings"]["label"].startswith("Findings · gradient.png · sizes in pixels")
    assert out["findings"]["label"].endswith(views.UNRELIABLE)
    assert all(row[1].endswith("UNRELIABLE") for row in out["findings"]["value"])
    assert views.UNRELIABLE in out["score"] and views.UNRELIABLE in out["overlay"]["label"]
    report = cb.engine.asker().report(st)
    assert report.unreliable and report.to_dict()["applicability"]["in_domain"] is False

    out = cb.on_reanalyse(method, preset, 1.0, None, 0.5, False, session)  # unticked again
    assert session.state.result is None and "does not apply" in out["score"]
    data = views.analysis_dict(session.state)
    assert data["in_domain"] is False and data["unreliable"] is False and data["findings"] == []
    assert data["applicability"]["reasons"] == st.applicability.reasons
    session.close()


def test_domain_views_for_volumes():
    from assistant.domain import Applicability

    state = make_state([LEFT_BRIGHT])
    assert views.domain_banner(state, "a.png") == "" and views.slice_info(state) == ""
    assert views.findings_caption(state, "a.png") == "Findings · a.png · sizes in mm²"
    assert views.slice_ranges([7, 3, 4, 5, 9, 10]) == "3-5, 7, 9-10"
    ok = Applicability(
        in_domain=True,
        level=23.0,
        trained_level=23.0,
        level_tolerance=4.5,
        checks={"analysable_slices": [45, 46, 47, 48]},
    )
    state.applicability = ok
    info = views.slice_info(state, 95)
    assert info.startswith("Analysable: slices 45-48") and "MNI z = +23" in info
    assert views.slice_info(state, 4).startswith("Analysable: all slices")
    ok.checks["analysable_slices"] = []
    assert views.slice_info(state, 95).startswith("No slice of this volume")
    state.applicability = Applicability(in_domain=False, reasons=["It is a CT scan."])
    assert views.slice_info(state, 95).startswith("No slice is analysable")
    assert views.domain_banner(state, "x`y.nii").count("`x'y.nii`") == 1
    assert "- It is a CT scan." in views.domain_banner(state, None)


def test_a_volume_gets_a_score_strip_and_a_menu_of_its_3d_findings(tmp_path):
    """A volume analysed whole: the strip shows its score per slice (the shown slice in blue,
    3D findings ticked), "Go to a 3D finding" lists V1.. and moves the slider there (the 3D
    findings stay in the table), and clearing the file hides both at once."""
    import sys

    import gradio as gr

    sys.path.insert(0, str(Path(__file__).parent))
    from test_volume import template_volume, write_nifti

    from assistant.ui import views

    cb, det = tiny_callbacks(tmp_path)
    scan, _, origin, step = template_volume()
    path = write_nifti(tmp_path / "head.nii.gz", scan.pixels, origin, step)
    settings = (*det, None, 0.5)
    out = cb.on_upload(str(path), *settings, None)
    session = out["session"]
    volume = session.state.volume
    assert volume is not None and out["strip"]["visible"] is True
    strip = out["strip"]["value"]
    n = scan.pixels.shape[0]
    assert strip.shape[0] == views.STRIP_HEIGHT and strip.shape[1] % n == 0
    k = strip.shape[1] // n
    shown = session.state.slice_index
    assert tuple(strip[-1, shown * k]) == (40, 90, 220)  # the shown slice
    assert tuple(strip[-1, 0]) == (225, 225, 225)  # the lowest slice: not analysed
    choices = out["jump"]["choices"]
    assert [c[0].split(" · ")[0] for c in choices] == [v.id for v in volume.findings]
    assert out["jump"]["visible"] is bool(choices)
    for v in volume.findings:
        lo, hi = v.slice_range
        assert (strip[:5, lo * k : (hi + 1) * k] == 0).all()  # ticks over its slices
    for label, target in choices:  # the finding's centre slice, at a level it lies on
        v = next(f for f in volume.findings if f.id == target)
        moved = cb.on_jump(target, *settings, False, session)
        shown = moved["session"].state
        assert moved["slice"].value == round(v.centroid_voxel[0]) == shown.slice_index
        assert f"slice {shown.slice_index} " in label
        assert shown.shown_level == volume.levels[volume.level_of_finding(v)]
        assert [r[0] for r in moved["findings"]["value"] if r[0].startswith("V")]
        assert f"MNI z = {shown.shown_level:+.0f} mm" in moved["overlay"]["label"]
        assert "shown from the whole-volume analysis" in moved["score"]
    assert choices  # the tiny detector's noise makes one 3D finding on this volume
    assert cb.on_jump("V99", *settings, False, session) == gr.skip()  # a warning, no change
    cleared = cb.on_file(None, session)
    assert cleared["strip"]["visible"] is False and cleared["jump"]["visible"] is False
    assert cleared["jump"]["choices"] == []
    session.close()
