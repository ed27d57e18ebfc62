"""The chat app through gradio_client against the launched server (tiny detector + library)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from app_helpers import launch_tiny_app
from PIL import Image

from assistant.examples import EXAMPLES_DIR, example_truth

gradio_client = pytest.importorskip("gradio_client")
Client, handle_file = gradio_client.Client, gradio_client.handle_file

PNG = EXAMPLES_DIR / "mni_left_hyperintense.png"
DICOM = EXAMPLES_DIR / "mni_right_hypointense.dcm"
NIFTI = EXAMPLES_DIR / "mni_left_volume.nii.gz"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    demo, url = launch_tiny_app(tmp_path_factory.mktemp("app"))
    yield demo, url
    demo.close()


@pytest.fixture
def client(server):
    return Client(server[1], verbose=False)


def analyze(client, path: Path, slice_index: int = -1, anyway: bool = False):
    return client.predict(handle_file(str(path)), slice_index, anyway, api_name="/analyze")


def cited(text: str) -> list[str]:
    return re.findall(r"\[([A-Z]\d+)\]", text)


def test_examples_are_small_synthetic_and_offline():
    truth = example_truth()
    assert {PNG.name, DICOM.name, NIFTI.name} <= set(truth)
    assert all(t["synthetic"] for t in truth.values())
    pngs = [p for p in EXAMPLES_DIR.glob("*.png")]
    assert len(pngs) >= 2 and sum(p.stat().st_size for p in pngs) < 300_000
    assert NIFTI.stat().st_size < 1_000_000
    import pydicom

    ds = pydicom.dcmread(DICOM)
    assert str(ds.get("PatientName", "")) == "" and str(ds.get("PatientID", "")) == ""
    assert "PatientBirthDate" not in ds and "InstitutionName" not in ds


@pytest.mark.parametrize(
    ("path", "fmt", "n_slices"), [(PNG, "png", 0), (DICOM, "dicom", 0), (NIFTI, "nifti", 9)]
)
def test_analyze_then_ask_presence_and_side(client, path, fmt, n_slices):
    data, overlay, pseudo = analyze(client, path)
    assert data["scan"]["format"] == fmt and data["n_slices"] == n_slices
    assert data["in_domain"] is True and data["unreliable"] is False  # the examples: in domain
    assert (data["slice_index"] is None) == (n_slices == 0)
    if n_slices:
        assert data["slice_index"] == n_slices // 2  # the detector's default: the middle
    assert data["score_threshold"] is not None
    assert data["is_abnormal"] == (data["score"] > data["score_threshold"])
    ov, ph = np.asarray(Image.open(overlay)), np.asarray(Image.open(pseudo))
    assert ph.shape[:2] == (233, 197)
    assert ov.shape[0] == 233 and ov.shape[1] > 197  # the colour bar is appended
    ov = ov[..., :3].astype(int)
    assert (np.abs(ov[..., 0] - ov[..., 2]) > 30).any()  # heatmap colours, not only grey
    assert [c["Ref"] for c in data["cases"]] == ["C1", "C2", "C3"]
    assert all(c["Synthetic"] == "yes" for c in data["cases"])
    findings = data["findings"]
    assert findings, "the tiny detector's calibration makes strong deviations findings"

    text, answer = client.predict("Is there an abnormality?", api_name="/ask")
    assert text.startswith("Yes") and text == answer["answer"]
    ids = [e["id"] for e in answer["evidence"]]
    assert ids and set(ids) <= set(data["evidence_ids"])
    assert any(i.startswith("F") for i in ids) and set(cited(text)) == set(ids)
    f1 = next(e for e in answer["evidence"] if e["id"] == "F1")
    assert f1["text"].startswith(f"F1: {findings[0]['intensity']} region, {findings[0]['side']}")

    text, answer = client.predict("Which side is it on?", api_name="/ask")
    side = findings[0]["side"]
    lean = findings[0]["side_lean"] if side == "midline" else None
    # a PNG records no orientation: the side may be worded as the image's ("Image right.",
    # "Midline, slightly to the image right.")
    said = text.split(".")[0].lower().removeprefix("image ")
    if lean is None:
        assert said == side
    else:
        assert said in (f"midline, slightly {lean}", f"midline, slightly to the image {lean}")
    assert [e["id"] for e in answer["evidence"]] == ["F1"]
    if data["scan"]["patient_left"] is not None and findings[0]["side"] != "midline":
        assert "patient's" in text  # DICOM and NIfTI know the orientation


def test_out_of_domain_gets_no_findings_unless_analysed_anyway(client, tmp_path):
    """A smooth gradient is outside the detector's domain: no findings, no images, answers and
    the draft say why [A1]; analysed anyway, everything is marked unreliable."""
    path = tmp_path / "gradient.png"
    Image.fromarray(np.tile(np.linspace(0, 255, 256), (256, 1)).astype(np.uint8)).save(path)
    # the old call (file, slice) still works: anyway defaults to False
    data, overlay, pseudo = client.predict(handle_file(str(path)), -1, api_name="/analyze")
    assert data["in_domain"] is False and data["unreliable"] is False
    assert data["findings"] == [] and data["score"] is None and overlay is None and pseudo is None
    assert data["applicability"]["reasons"] and "A1" in data["evidence_ids"]
    text, answer = client.predict("Is there an abnormality?", api_name="/ask")
    assert text.startswith("I can't tell") and [e["id"] for e in answer["evidence"]] == ["A1"]
    assert answer["evidence"][0]["kind"] == "applicability"
    md, report, _ = client.predict(api_name="/draft")
    assert report["applicability"]["in_domain"] is False and report["unreliable"] is False
    assert "[A1]" in md

    data, overlay, _ = analyze(client, path, anyway=True)
    assert data["in_domain"] is False and data["unreliable"] is True and overlay is not None
    assert data["findings"] and all(f["unreliable"] for f in data["findings"])
    text, _ = client.predict("Is there an abnormality?", api_name="/ask")
    assert text.startswith("Unreliable") and "[A1]" in text
    md, report, fhir = client.predict(api_name="/draft")
    assert report["unreliable"] is True and "UNRELIABLE" in md


def test_volume_slices_are_analysed_on_request(client):
    middle, _, _ = analyze(client, NIFTI)
    data, _, _ = analyze(client, NIFTI, slice_index=2)
    assert (middle["slice_index"], data["slice_index"]) == (4, 2) and data["n_slices"] == 9
    assert all(f["slice_index"] == 2 for f in data["findings"])
    assert data["scan"]["notes"][-1] == "axial slice 2 of 9"


def test_ask_streams_and_follow_up_uses_the_conversation(client):
    data, _, _ = analyze(client, DICOM)
    job = client.submit("Where is the lesion?", api_name="/ask")
    job.result()
    outputs = job.outputs()
    assert len(outputs) >= 2  # streamed: partial texts, then the final answer
    assert outputs[-1][1]["intent"] == "location" and outputs[0][1] == {}
    assert all(outputs[-1][0].startswith(o[0].strip()[:5]) for o in outputs[:-1] if o[0])
    _, follow = client.predict("and how big is it?", api_name="/ask")
    assert follow["intent"] == "size" and follow["follow_up"]
    assert [e["id"] for e in follow["evidence"]] == ["F1"]
    area = data["findings"][0]["area_mm2"]
    assert f"{area:.0f}" in follow["answer"]


def test_draft_findings_come_back(client):
    data, _, _ = analyze(client, PNG)
    md, report, fhir = client.predict(api_name="/draft")
    assert md.startswith("# Draft findings") and "## Findings" in md and "## Impression" in md
    assert "Research use only" in md
    f_ids = {f["id"] for f in data["findings"]}
    assert f_ids and f_ids <= set(cited(md))
    assert set(report["evidence"]) <= set(data["evidence_ids"])
    assert fhir["resourceType"] == "DiagnosticReport" and fhir["status"] == "preliminary"
    assert len(fhir.get("contained", [])) == len(f_ids)


def test_ask_says_why_when_a_new_clients_first_analyze_failed(server, tmp_path):
    """A client whose very first /analyze failed has no session yet (Gradio keeps no state
    from a call that raises); /ask still says why, not only "call /analyze first"."""
    from gradio_client.exceptions import AppError

    fresh = Client(server[1], verbose=False)
    bad = tmp_path / "first.txt"
    bad.write_text("not a scan")
    with pytest.raises(AppError):
        analyze(fresh, bad)
    with pytest.raises(AppError, match="the last /analyze failed: .*not a recognised scan format"):
        fresh.predict("Is there an abnormality?", api_name="/ask")
    other = Client(server[1], verbose=False)  # another client is not told this one's failure
    with pytest.raises(AppError) as err:
        other.predict("Is there an abnormality?", api_name="/ask")
    assert "failed" not in str(err.value)


def test_bad_uploads_leave_no_file_name_in_the_log(server, tmp_path, capfd, caplog):
    """A file's name may be a patient's: failed uploads and the calls after them are answered
    with the name (the visitor's own), but the server's log and console never show it."""
    from gradio_client.exceptions import AppError

    visitor = Client(server[1], verbose=False)
    bad = tmp_path / "Surname_Firstname_MRN0042.txt"
    bad.write_text("not a scan")
    broken = tmp_path / "Surname_Firstname_MRN0042.png"
    broken.write_bytes(PNG.read_bytes()[:200])
    for path in (bad, broken):
        with pytest.raises(AppError, match="Surname_Firstname"):
            analyze(visitor, path)
    with pytest.raises(AppError, match="Surname_Firstname"):
        visitor.predict("Is there an abnormality?", api_name="/ask")
    with pytest.raises(AppError):
        visitor.predict(api_name="/draft")
    out, err = capfd.readouterr()
    assert "Surname_Firstname" not in out + err + caplog.text
    assert "Traceback" not in out + err


def test_bad_upload_gets_a_message_and_the_app_keeps_serving(client, tmp_path):
    from gradio_client.exceptions import AppError

    bad = tmp_path / "notes.txt"
    bad.write_text("not a scan at all")
    data, _, _ = analyze(client, PNG)  # a good scan first: a failed upload must forget it
    assert data["file"] == PNG.name and data["findings"]
    with pytest.raises(AppError, match="not a recognised scan format.*accepted"):
        analyze(client, bad)
    broken = tmp_path / "broken.png"
    broken.write_bytes(PNG.read_bytes()[:200])  # a truncated PNG
    with pytest.raises(AppError) as err:
        analyze(client, broken)
    assert "Could not analyse `broken.png`" in str(err.value)
    assert "Traceback" not in str(err.value)
    with pytest.raises(AppError, match="the last /analyze failed.*call /analyze first"):
        client.predict("Is there an abnormality?", api_name="/ask")  # not about the PNG
    with pytest.raises(AppError, match="call /analyze first"):
        client.predict(api_name="/draft")
    with pytest.raises(AppError, match="out of range"):
        analyze(client, NIFTI, slice_index=99)
    data, _, _ = analyze(client, PNG)  # still serving, same client
    assert data["findings"]
    text, _ = client.predict("Is there an abnormality?", api_name="/ask")
    assert text.startswith("Yes")


def test_eight_clients_at_once_get_their_own_results(server, tmp_path):
    """Each client uploads a different scan at the same time; answers stay with their client."""
    base = np.asarray(Image.open(PNG), dtype=np.float32)
    paths = []
    for k in range(8):
        img = base.copy()
        r, c = 60 + 12 * (k % 4), 40 + 70 * (k // 4)
        img[r : r + 8 + 2 * k, c : c + 10] = 255.0  # a bright block: a different finding each
        path = tmp_path / f"scan{k}.png"
        Image.fromarray(img.astype(np.uint8)).save(path)
        paths.append(path)
    clients = [Client(server[1], verbose=False) for _ in paths]

    def run(k):
        data, _, _ = analyze(clients[k], paths[k])
        return data

    with ThreadPoolExecutor(8) as pool:
        analyses = list(pool.map(run, range(8)))

    def ask(k):
        return clients[k].predict("How big is it?", api_name="/ask")[1]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    values = [tuple(round(v, 4) for v in a["scan"]["value_range"]) for a in analyses]
    areas = [a["findings"][0]["area_px"] for a in analyses]
    assert len(set(areas)) > 1  # different scans, different findings
    for k, (data, answer) in enumerate(zip(analyses, answers, strict=True)):
        assert data["scan"]["shape"] == [233, 197] and values[k] == values[0]
        f1 = next(e for e in answer["evidence"] if e["id"] == "F1")
        assert f"{data['findings'][0]['area_px']} px" in f1["text"], k


def test_engine_loads_models_once_and_sessions_are_separate(server, client):
    demo, url = server
    engine = demo.engine
    a1, _ = engine.analyzer()
    a2, _ = engine.analyzer()
    assert a1 is a2 and a1.detector is engine.detector and a1.index is engine.index
    assert engine.asker() is engine.asker()
    other = Client(url, verbose=False)
    analyze(client, PNG)
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="call /analyze first"):
        other.predict("Is there an abnormality?", api_name="/ask")


def test_an_upload_leaves_gradios_public_cache_once_read(client, tmp_path):
    """Gradio serves every file in its cache to anyone with the URL: a demo host's trial fetched
    an uploaded DICOM back, header identifiers included, with no session. The app moves an
    upload into the session's own folder (removed when the session ends) as it reads it."""
    import shutil

    from gradio.utils import get_upload_folder

    mine = tmp_path / "privacy_check_upload.dcm"
    shutil.copy(DICOM, mine)
    analysis, _, _ = analyze(client, mine)
    assert analysis["file"] == "privacy_check_upload.dcm" and analysis["findings"]
    assert not list(Path(get_upload_folder()).rglob("privacy_check_upload.dcm"))
    assert mine.exists()  # only Gradio's copy is moved; a caller's own file is never touched
    from assistant.ui.engine import Session

    assert Session().keep_upload(str(mine)) == str(mine) and mine.exists()
    # the examples, cached once for every visitor, stay servable
    assert analyze(client, DICOM)[0]["file"] == DICOM.name
    assert analyze(client, DICOM)[0]["file"] == DICOM.name
