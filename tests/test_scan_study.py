"""A whole study in one folder or .zip: the series the detector fits is loaded and named."""

from __future__ import annotations

import copy
import json
import zipfile
from types import SimpleNamespace

import pytest
from conftest import pydicom_file

from assistant.domain.series import choose_t1_series, series_by_number
from assistant.scan import ScanError, load_scan
from assistant.scan.dicom.series import loaded_series

T1 = {"RepetitionTime": 500, "EchoTime": 12, "ScanningSequence": "SE", "MRAcquisitionType": "2D"}
T2 = {"RepetitionTime": 4000, "EchoTime": 100, "ScanningSequence": "SE"}
FLAIR = {
    "RepetitionTime": 9000,
    "EchoTime": 120,
    "InversionTime": 2500,
    "ScanningSequence": "SE\\IR",
}


def write_study(folder, series, patient="PAT-1", study="1.2.3.4"):
    """One file per slice of each (number, description, tags, n files) series, all of one
    study and patient (pydicom's MR_small, 64 x 64, with its timings replaced)."""
    import pydicom
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    base = pydicom.dcmread(pydicom_file("MR_small.dcm"))
    for number, description, tags, n in series:
        uid = generate_uid()
        for k in range(n):
            ds = copy.deepcopy(base)
            for key in ("RepetitionTime", "EchoTime", "InversionTime", "ScanningSequence"):
                if key in ds:
                    delattr(ds, key)
            for key, value in tags.items():
                setattr(ds, key, value)
            ds.PatientID, ds.StudyInstanceUID = patient, study
            ds.SeriesInstanceUID, ds.SOPInstanceUID = uid, generate_uid()
            ds.SeriesNumber, ds.SeriesDescription, ds.InstanceNumber = number, description, k + 1
            ds.ImagePositionPatient = [0.0, 0.0, 5.0 * k]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.save_as(folder / f"s{number}_{k:02d}.dcm", enforce_file_format=True)
    return folder


STUDY = [
    (1, "LOCALIZER", {**T1, "ImageType": ["ORIGINAL", "PRIMARY", "LOCALIZER"]}, 3),
    (2, "AX T2 TSE", T2, 5),
    (3, "AX T1 SE", T1, 6),
    (4, "AX FLAIR", FLAIR, 5),
    (5, "AX T1 SE +C", {**T1, "ContrastBolusAgent": "Gadovist 7 ml"}, 6),
]


def test_a_study_loads_its_pre_contrast_t1_series_and_says_why(tmp_path):
    """Without a chooser the study is refused with its listing; with `choose_t1_series` the
    pre-contrast T1 series is loaded, and its note names it and why each other series was not
    (localizer, T2 and FLAIR timings, contrast agent; the agent's text is not copied)."""
    folder = write_study(tmp_path / "study", STUDY)
    with pytest.raises(ScanError, match="mixes 5 series") as refused:
        load_scan(folder)
    assert "'AX T2 TSE' #2 MR (5 files)" in str(refused.value)
    scan = load_scan(folder, choose_series=choose_t1_series)
    assert scan.is_volume and scan.pixels.shape[0] == 6
    assert scan.metadata["EchoTime"] == 12 and "ContrastAgent" not in scan.metadata
    assert loaded_series(scan.notes) == "'AX T1 SE' #3 MR (6 files)"
    note = next(n for n in scan.notes if n.startswith("series "))
    assert "'LOCALIZER' #1 MR (3 files): a localizer" in note
    assert "'AX T2 TSE' #2 MR (5 files): T2-weighted: TR 4000 ms, TE 100 ms" in note
    assert "'AX FLAIR' #4 MR (5 files): FLAIR" in note
    assert "'AX T1 SE +C' #5 MR (6 files): post-contrast" in note
    assert "Gadovist" not in note and "PAT-1" not in note and "1.2.3.4" not in note


def test_a_3d_t1_is_preferred_and_the_users_series_number_wins(tmp_path):
    """Of two T1 candidates the 3D acquisition wins over a 2D one with more files;
    `series_by_number` loads the series the user names, even a T2 (the check then refuses it),
    and an unknown number lists the numbers there are."""
    study = [
        (2, "AX T1 SE", T1, 8),
        (7, "T1 3D FFE", {**T1, "MRAcquisitionType": "3D", "ScanningSequence": "GR"}, 4),
        (9, "AX T2", T2, 5),
    ]
    folder = write_study(tmp_path / "study", study)
    scan = load_scan(folder, choose_series=choose_t1_series)
    assert loaded_series(scan.notes) == "'T1 3D FFE' #7 MR (4 files)"
    assert "of 2 such series, it is the only 3D acquisition" in scan.notes[-1]
    chosen = load_scan(folder, choose_series=series_by_number(9))
    assert loaded_series(chosen.notes) == "'AX T2' #9 MR (5 files)"
    assert "chosen by hand: its series number (9)" in chosen.notes[-1]
    with pytest.raises(ScanError, match="no series has the number 4; .* 2, 7, 9"):
        load_scan(folder, choose_series=series_by_number(4))


def test_a_study_without_a_fitting_series_lists_why(tmp_path):
    folder = write_study(tmp_path / "study", [s for s in STUDY if s[1] != "AX T1 SE"])
    with pytest.raises(ScanError, match="none of its 4 series is a pre-contrast T1") as refused:
        load_scan(folder, choose_series=choose_t1_series)
    assert "'AX FLAIR' #4 MR (5 files): FLAIR" in str(refused.value)
    assert "--series N" in str(refused.value)


def test_series_of_two_patients_are_never_loaded(tmp_path):
    """A folder with two patients' (or studies') series is refused, chooser or not, and no
    identifier is quoted."""
    folder = write_study(tmp_path / "mixed", [(3, "AX T1 SE", T1, 4)], patient="PAT-1")
    write_study(folder, [(4, "AX T1 SE", T1, 4)], patient="PAT-2", study="1.2.3.5")
    with pytest.raises(ScanError, match="2 different studies or patients") as refused:
        load_scan(folder, choose_series=choose_t1_series)
    assert "PAT-" not in str(refused.value) and "1.2.3." not in str(refused.value)


def test_the_cli_and_the_app_load_a_study_and_name_its_series(tmp_path, capsys):
    """`assistant check STUDY` checks the pre-contrast T1 series and `--series 2` the T2 one
    (refused for its sequence); `assistant ask` says which series it read; the app reads a .zip of the study the same way, and each
    result's title names the series loaded."""
    from assistant.cli import main
    from assistant.ui import views
    from assistant.ui.callbacks import read_scan

    folder = write_study(tmp_path / "study", STUDY)
    assert main(["check", str(folder), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["checks"]["sequence"]["other_weighting"] is False
    assert verdict["series"] == "'AX T1 SE' #3 MR (6 files)"
    assert main(["check", str(folder)]) == 0
    assert "series 'AX T1 SE' #3 MR (6 files) was loaded of the 5 series in the folder" in (
        capsys.readouterr().out
    )
    assert main(["check", str(folder), "--series", "2", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["checks"]["sequence"]["weighting"] == "T2-weighted"
    assert "ignored" not in err
    assert main(["check", pydicom_file("MR_small.dcm"), "--series", "2", "--json"]) == 0
    assert "--series 2 is ignored: the input holds one series" in capsys.readouterr().err
    assert main(["ask", str(folder), "Which sequence is this?", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["analysis"]["scan"]["series"] == "'AX T1 SE' #3 MR (6 files)"
    assert (
        "It is series 'AX T1 SE' #3 MR (6 files), loaded from an upload of several"
        in (out["answer"])
    )

    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    scan = read_scan(str(archive))
    assert loaded_series(scan.notes) == "'AX T1 SE' #3 MR (6 files)"
    state = SimpleNamespace(
        scan_summary={"notes": scan.notes, "source_shape": list(scan.pixels.shape)},
        slice_index=2,
    )
    title = views.scan_title("study.zip", state)
    assert title.startswith("study.zip · series 'AX T1 SE' #3 MR (6 files) · axial slice 2 of 6")


def test_the_app_names_the_series_of_a_study_in_every_result(tmp_path):
    """Uploaded as a .zip in the app, a study's result, the line under each answer and the
    draft's file names say which series was loaded."""
    from pathlib import Path

    from test_app_support import ask, tiny_callbacks

    folder = write_study(tmp_path / "study", STUDY)
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    cb, det = tiny_callbacks(tmp_path)
    out = cb.on_upload(str(archive), *det, None, 0.5, None)
    session = out["session"]
    assert session.state is not None, out["error"]
    series = "series 'AX T1 SE' #3 MR (6 files)"
    assert series in out["score"]
    answer = ask(cb, "Which sequence is this?", session)["chat"][-1]["content"]
    assert f"It is {series}, loaded from an upload of several series" in answer
    assert answer.endswith(
        f"*About `study.zip`, {series} · axial slice {session.state.slice_index} of 6.*"
    )
    md = cb.on_draft(session)["dl_md"].value["path"]
    assert Path(md).name.startswith("study_series3_slice")
    session.close()


def _zip_study(tmp_path, series, name="study.zip"):
    folder = write_study(tmp_path / name.replace(".zip", ""), series)
    archive = tmp_path / name
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    return archive


def test_the_series_menu_lists_a_studys_series_and_why_each_is_not_used(tmp_path):
    from assistant.domain.series import series_at, series_choices

    seen = []

    def first(infos):
        seen.extend(infos)
        return 1, "the first"

    load_scan(write_study(tmp_path / "study", STUDY), choose_series=first)
    infos = seen
    labels = dict((p, label) for label, p in series_choices(infos))
    assert labels[3] == "'AX T1 SE' #3 MR (6 files)"
    assert labels[1] == "'LOCALIZER' #1 MR (3 files): not used, a localizer"
    assert labels[2].startswith("'AX T2 TSE' #2 MR (5 files): not used, T2-weighted")
    assert labels[5].endswith("not used, post-contrast: the header records a contrast agent")
    assert series_at(2)(infos) == (2, "chosen by hand from the study's series")
    with pytest.raises(ScanError, match="not a series number 9 in its list"):
        series_at(9)(infos)


def test_the_app_menu_switches_series_and_clears_the_previous_results_at_once(tmp_path):
    """A study's upload shows the series menu on the series loaded; choosing the T2 series
    clears the T1 results at once, then reads and checks it like any upload (refused for its
    sequence, "Analyse anyway" offered, every result naming the series chosen by hand); a
    choice overtaken by another is dropped; a new file hides the menu."""
    from test_app_support import ask, tiny_callbacks

    from assistant.ui import views

    archive = _zip_study(tmp_path, STUDY)
    cb, det = tiny_callbacks(tmp_path)
    out = cb.on_upload(str(archive), *det, None, 0.5, None)
    session = out["session"]
    assert session.state is not None, out["error"]
    menu = out["series"]
    assert menu["visible"] is True and menu["value"] == 3
    assert [p for _, p in menu["choices"]] == [1, 2, 3, 4, 5]

    cleared = cb.on_series_chosen(2, session)
    assert session.state is None and session.scan is None and session.path == str(archive)
    assert cleared["findings"]["value"] == [] and cleared["chat"] == []
    assert cleared["overlay"]["value"] is None
    assert "no results yet" in cleared["score"]
    assert cleared["series"]["value"] == 2 and cleared["series"]["visible"] is True
    assert cb.on_series(4, *det, None, 0.5, session) == gr_skip()  # overtaken by the choice of 2

    out = cb.on_series(2, *det, None, 0.5, session)
    st = session.state
    assert st is not None and views.out_of_domain(st), out["error"]
    assert st.result is None and out["anyway"].visible is True
    t2 = "series 'AX T2 TSE' #2 MR (5 files)"
    assert t2 in out["score"] and t2 in out["banner"].value
    assert "T2-weighted" in out["banner"].value
    assert out["series"]["value"] == 2
    answer = ask(cb, "Which sequence is this?", session)["chat"][-1]["content"]
    assert f"It is {t2}, loaded from an upload of several series (chosen by hand)" in answer

    # analysed anyway: the T2 series, marked unreliable
    out = cb.on_reanalyse(*det, None, 0.5, True, session)
    assert session.state.unreliable and t2 in out["score"]

    cb.on_file(None, session)
    assert cb.on_upload(None, *det, None, 0.5, session)["series"]["visible"] is False
    session.close()


def test_a_study_with_no_fitting_series_offers_the_menu_to_check_one(tmp_path):
    """No series of the study fits: the upload fails with each series' reason, and the menu
    lists them (none selected) so that one can be chosen, checked and analysed anyway."""
    from test_app_support import tiny_callbacks

    archive = _zip_study(tmp_path, [(2, "AX T2 TSE", T2, 5), (4, "AX FLAIR", FLAIR, 5)])
    cb, det = tiny_callbacks(tmp_path)
    out = cb.on_upload(str(archive), *det, None, 0.5, None)
    session = out["session"]
    assert session.state is None and "in the app's series menu" in out["error"].value
    assert out["series"]["visible"] is True and out["series"]["value"] is None
    assert len(out["series"]["choices"]) == 2
    cb.on_series_chosen(2, session)
    out = cb.on_series(2, *det, None, 0.5, session)
    assert session.state is not None and session.state.result is None
    assert "series 'AX FLAIR' #4 MR (5 files)" in out["banner"].value
    session.close()


def test_the_api_loads_the_series_asked_for_and_lists_the_studys_series(tmp_path):
    """`/analyze` with `series` -1 loads the pre-contrast T1 series, with a Series Number that
    series (the T2 one: refused for its sequence), and lists every series with why its header
    rules it out; an unknown number fails with the numbers there are and leaves nothing to ask
    about; a number asked of a single image is said to be ignored."""
    import gradio as gr
    from test_app_support import _noop, tiny_callbacks

    from assistant.examples import EXAMPLES_DIR

    archive = _zip_study(tmp_path, STUDY)
    cb, _ = tiny_callbacks(tmp_path)
    data = cb.api_analyze(str(archive), -1, False, -1, None, _noop)["api_json"]
    assert data["series"]["loaded"] == 3 and data["in_domain"] is not None
    assert data["series"]["loaded_description"] == "'AX T1 SE' #3 MR (6 files)"
    listed = {s["number"]: s for s in data["series"]["series"]}
    assert sorted(listed) == [1, 2, 3, 4, 5] and listed[3]["not_used_because"] is None
    assert listed[2]["not_used_because"].startswith("T2-weighted")
    assert listed[5]["not_used_because"].startswith("post-contrast")
    assert listed[4]["files"] == 5 and listed[4]["description"] == "AX FLAIR"

    out = cb.api_analyze(str(archive), -1, False, 2, None, _noop)
    data, session = out["api_json"], out["session"]
    assert data["series"]["loaded"] == 2 and data["in_domain"] is False
    assert data["findings"] == [] and "T2-weighted" in " ".join(data["applicability"]["reasons"])
    with pytest.raises(gr.Error, match="no series has the number 9.*1, 2, 3, 4, 5"):
        cb.api_analyze(str(archive), -1, False, 9, session, _noop)
    assert session.state is None

    png = str(EXAMPLES_DIR / "mni_left_hyperintense.png")
    data = cb.api_analyze(png, -1, False, 2, None, _noop)["api_json"]
    assert data["series"] == {"ignored": "series 2 was asked for, but the upload holds one series"}


def gr_skip():
    import gradio as gr

    return gr.skip()


def test_the_draft_report_of_a_study_names_its_series(tmp_path, capsys):
    """`assistant report STUDY`: the draft's technique says which series was read and how it
    was chosen (also with `--series`)."""
    from assistant.cli import main

    folder = write_study(tmp_path / "study", STUDY)
    assert main(["report", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "- It is series 'AX T1 SE' #3 MR (6 files), loaded from an upload of several" in out
    assert main(["report", str(folder), "--series", "2"]) == 0
    assert "series 'AX T2 TSE' #2 MR (5 files), loaded from an upload of several series " in (
        capsys.readouterr().out
    )
