"""The app's non-UI helpers: configuration, sensitivity, views (no server, no browser)."""

from __future__ import annotations

from dataclasses import replace

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
    r = state.result
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
    assert [row[0] for row in rows] == ["F1", "F2"]
    assert rows[0][1] == "left" and rows[0][4] == "hyperintense" and rows[0][5] == 0.8
    assert rows[0][3] == f"{8 * 8 * 0.9 * 1.2:.0f} mm²"
    md = views.score_markdown(state)
    assert "0.9" in md and "**above**" in md and "2 finding(s)" in md
    weak = replace(r, weak_findings=[replace(r.findings[1], id="W1")])
    assert [row[0] for row in views.findings_rows(weak)] == [
        "F1",
        "F2",
        "W1 (weak: below the image threshold)",
    ]


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


def test_callbacks_return_outputs_by_name_without_a_browser(tmp_path):
    import gradio as gr

    from assistant.detector.testing import tiny_detector
    from assistant.examples import EXAMPLES_DIR
    from assistant.ui.callbacks import ANALYSIS_OUTPUTS, CHAT_OUTPUTS, DRAFT_OUTPUTS, Callbacks
    from assistant.ui.engine import Engine, Session

    cb = Callbacks(Engine(detector=tiny_detector(tmp_path)))  # no components: names as keys
    method, preset, _ = cb.engine.default_settings()
    settings = (method, preset, 1.0, 0.5)
    with pytest.warns(UserWarning, match="Upload a scan first"):
        assert cb.on_slice(3, *settings, False, None) == gr.skip()
    bad = tmp_path / "notes.txt"
    bad.write_text("not a scan")
    with pytest.warns(UserWarning, match="not a recognised scan format"):
        out = cb.on_upload(str(bad), *settings, None)
    assert list(out) == ["session"] and out["session"].state is None  # the page stays as it was

    out = cb.on_upload(str(EXAMPLES_DIR / "mni_left_hyperintense.png"), *settings, None)
    assert set(out) == set(ANALYSIS_OUTPUTS)
    session = out["session"]
    assert session.state is not None and out["findings"]["value"][0][0] == "F1"
    assert session.state.applicability.in_domain and not session.state.unreliable
    assert out["banner"].visible is False and out["anyway"].visible is False
    assert out["findings"]["label"] == "Findings · mni_left_hyperintense.png"
    assert out["score"].startswith("`mni_left_hyperintense.png`: Anomaly score")
    assert out["chat"] == [] and out["draft"] == "" and out["overlay"]["value"].shape[0] == 233
    assert "mni_left_hyperintense.png" in out["overlay"]["label"]
    assert isinstance(session, Session)
    assert cb.on_upload(None, *settings, session) == {"session": session}  # the file was cleared

    *_, last = cb.on_ask("Which side is it on?", [], "grounded", "", "none", session)
    assert set(last) == set(CHAT_OUTPUTS) and last["question"] == ""
    assert [m["role"] for m in last["chat"]] == ["user", "assistant"]
    assert "[F1]" in last["chat"][-1]["content"] and "[F1]" in last["evidence"]

    out = cb.on_draft(session)
    assert set(out) == set(DRAFT_OUTPUTS) and out["draft"].startswith("# Draft findings")
    session.close()


def gradient_png(folder) -> str:
    """A smooth horizontal gradient: outside the detector's domain (no head in it)."""
    path = folder / "gradient.png"
    Image.fromarray(np.tile(np.linspace(0, 255, 256), (256, 1)).astype(np.uint8)).save(path)
    return str(path)


def test_callbacks_out_of_domain_banner_and_analyse_anyway(tmp_path):
    """An image outside the detector's domain: a banner with the reasons, no findings, and the
    "Analyse anyway" box; ticked, the results are shown marked UNRELIABLE."""
    from assistant.detector.testing import tiny_detector
    from assistant.ui.callbacks import ANALYSIS_OUTPUTS, Callbacks
    from assistant.ui.engine import Engine

    cb = Callbacks(Engine(detector=tiny_detector(tmp_path)))
    method, preset, _ = cb.engine.default_settings()
    out = cb.on_upload(gradient_png(tmp_path), method, preset, 1.0, 0.5, None)
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
    assert out["overlay"]["value"].shape[:2] == (256, 256)  # the image itself, no heatmap
    *_, last = cb.on_ask("Is there an abnormality?", [], "grounded", "", "none", session)
    assert last["chat"][-1]["content"].startswith("I can't tell") and "[A1]" in last["evidence"]

    out = cb.on_reanalyse(method, preset, 1.0, 0.5, True, session)  # "Analyse anyway" ticked
    st = session.state
    assert st.unreliable and st.result is not None and st.result.findings
    assert views.UNRELIABLE in out["banner"].value and out["banner"].visible is True
    assert "analysed anyway" in out["banner"].value and "`gradient.png`" in out["banner"].value
    assert out["anyway"].value is True and out["anyway"].visible is True
    assert out["findings"]["label"] == f"Findings · gradient.png · {views.UNRELIABLE}"
    assert all(row[0].endswith("(UNRELIABLE)") for row in out["findings"]["value"])
    assert views.UNRELIABLE in out["score"] and views.UNRELIABLE in out["overlay"]["label"]
    report = cb.engine.asker().report(st)
    assert report.unreliable and report.to_dict()["applicability"]["in_domain"] is False

    out = cb.on_reanalyse(method, preset, 1.0, 0.5, False, session)  # unticked again
    assert session.state.result is None and "does not apply" in out["score"]
    data = views.analysis_dict(session.state)
    assert data["in_domain"] is False and data["unreliable"] is False and data["findings"] == []
    assert data["applicability"]["reasons"] == st.applicability.reasons
    session.close()


def test_domain_views_for_volumes():
    from assistant.domain import Applicability

    state = make_state([LEFT_BRIGHT])
    assert views.domain_banner(state, "a.png") == "" and views.slice_info(state) == ""
    assert views.findings_caption(state, "a.png") == "Findings · a.png"
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
