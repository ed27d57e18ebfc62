"""Other MR contrasts: the DICOM header's sequence timings, and the white/grey matter order."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import pydicom_file

from assistant.domain import check_applicability, load_domain_model
from assistant.domain.contrast import MIN_WM_GM_RATIO, tissue_masks, wm_gm_ratio
from assistant.domain.metadata import sequence_weighting
from assistant.scan import Scan, load_scan


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        # T1-weighted: a T1 spin echo, MPRAGE, the IXI 3D FFE, a T1-FLAIR, an IR-SPGR
        ({"RepetitionTime": 500, "EchoTime": 12, "ScanningSequence": "SE"}, None),
        (
            {
                "RepetitionTime": 2300,
                "EchoTime": 2.98,
                "InversionTime": 900,
                "ScanningSequence": "GR\\IR",
            },
            None,
        ),
        ({"RepetitionTime": 9.8, "EchoTime": 4.6, "ScanningSequence": "GR"}, None),
        (
            {
                "RepetitionTime": 2200,
                "EchoTime": 12,
                "InversionTime": 860,
                "ScanningSequence": "SE\\IR",
            },
            None,
        ),
        (
            {
                "RepetitionTime": 8.2,
                "EchoTime": 3.2,
                "InversionTime": 300,
                "ScanningSequence": "GR",
            },
            None,
        ),
        ({}, None),  # nothing recorded: no verdict
        ({"EchoTime": 0, "RepetitionTime": 0}, None),  # zeros: not recorded
        # other contrasts
        ({"RepetitionTime": 4000, "EchoTime": 100, "ScanningSequence": "SE"}, "T2-weighted"),
        (
            {
                "RepetitionTime": 9000,
                "EchoTime": 120,
                "InversionTime": 2500,
                "ScanningSequence": "SE\\IR",
            },
            "FLAIR",
        ),
        ({"RepetitionTime": 4000, "EchoTime": 50, "InversionTime": 170}, "STIR"),
        ({"RepetitionTime": 3000, "EchoTime": 15, "ScanningSequence": "SE"}, "proton-density"),
        ({"RepetitionTime": 28, "EchoTime": 20, "ScanningSequence": "GR"}, "T2*"),
        ({"ImageType": "DERIVED, PRIMARY, DIFFUSION, ADC"}, "diffusion"),
        ({"ImageType": "ORIGINAL\\PRIMARY\\M\\ND"}, None),
        # enhanced MR objects: the coded Acquisition Contrast and the Echo Pulse Sequence
        ({"AcquisitionContrast": "T2", "RepetitionTime": 500, "EchoTime": 12}, "T2-weighted"),
        ({"AcquisitionContrast": "PROTON_DENSITY"}, "proton-density"),
        ({"AcquisitionContrast": "DIFFUSION"}, "diffusion"),
        ({"AcquisitionContrast": "TOF"}, "time-of-flight"),
        ({"AcquisitionContrast": "T1", "RepetitionTime": 500, "EchoTime": 12}, None),
        ({"AcquisitionContrast": "MIXED"}, None),
        ({"AcquisitionContrast": "FLUID_ATTENUATED"}, "FLAIR"),
        ({"AcquisitionContrast": "FLUID_ATTENUATED", "InversionTime": 2500}, "FLAIR"),
        # a T1-FLAIR: fluid attenuated, but at an inversion time that keeps T1 weighting
        ({"AcquisitionContrast": "FLUID_ATTENUATED", "InversionTime": 860, "EchoTime": 12}, None),
        ({"EchoPulseSequence": "GRADIENT", "RepetitionTime": 28, "EchoTime": 20}, "T2*"),
        ({"EchoPulseSequence": "GRADIENT", "RepetitionTime": 9.8, "EchoTime": 4.6}, None),
        ({"EchoPulseSequence": "SPIN", "RepetitionTime": 3000, "EchoTime": 15}, "proton-density"),
    ],
)
def test_the_header_names_sequences_that_are_not_t1_weighted(meta, expected):
    name, evidence = sequence_weighting(meta)
    if expected is None:
        assert name is None and evidence == ""
    else:
        assert name is not None and name.startswith(expected), name
        assert evidence


def test_a_t2_dicom_is_refused_for_its_sequence_before_anything_else():
    """pydicom's MR_small (TR 4000 ms, TE 240 ms) is refused from its header, with the
    timings in the reason; a header without timings gives no verdict."""
    verdict = check_applicability(load_scan(pydicom_file("MR_small.dcm")))
    assert not verdict.in_domain
    seq = verdict.checks["sequence"]
    assert seq["other_weighting"] is True and seq["weighting"] == "T2-weighted"
    assert "T2-weighted series (TR 4000 ms, TE 240 ms" in verdict.reasons[0]
    assert "Analyse anyway" in verdict.reasons[0]
    plain = Scan(pixels=np.zeros((8, 8), np.float32), modality="MR", format="dicom")
    assert check_applicability(plain).checks["sequence"]["other_weighting"] is False


def _enhanced_mr(tmp_path, shared: dict, per_frame: dict | None = None, **top):
    """pydicom's MR_small as an enhanced MR object: its timings moved out of the top level into
    functional-group items (`shared`, `per_frame`: group sequence keyword -> item attributes)."""
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = pydicom.dcmread(pydicom_file("MR_small.dcm"))
    for key in ("RepetitionTime", "EchoTime", "InversionTime", "ScanningSequence", "FlipAngle"):
        if key in ds:
            delattr(ds, key)

    def group(items: dict) -> Dataset:
        out = Dataset()
        for sequence, attributes in items.items():
            item = Dataset()
            for key, value in attributes.items():
                setattr(item, key, value)
            setattr(out, sequence, Sequence([item]))
        return out

    ds.SharedFunctionalGroupsSequence = Sequence([group(shared)])
    if per_frame is not None:
        ds.PerFrameFunctionalGroupsSequence = Sequence([group(per_frame)])
    for key, value in top.items():
        setattr(ds, key, value)
    path = tmp_path / "enhanced.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_an_enhanced_mr_flair_is_refused_from_its_functional_groups(tmp_path):
    """Enhanced (multi-frame) MR keeps TR, TE and TI in functional groups: they are read from
    there, so a FLAIR passes neither as a header without timings nor as a T1."""
    path = _enhanced_mr(
        tmp_path,
        {
            "MRTimingAndRelatedParametersSequence": {"RepetitionTime": 9000, "FlipAngle": 150},
            "MREchoSequence": {"EffectiveEchoTime": 120},
            "MRModifierSequence": {"InversionRecovery": "YES", "InversionTimes": [2500]},
        },
        EchoPulseSequence="SPIN",
    )
    scan = load_scan(path)
    assert scan.metadata["RepetitionTime"] == pytest.approx(9000)
    assert scan.metadata["EchoTime"] == pytest.approx(120)
    assert scan.metadata["InversionTime"] == pytest.approx(2500)
    assert scan.metadata["EchoPulseSequence"] == "SPIN"
    verdict = check_applicability(scan)
    assert not verdict.in_domain
    assert verdict.checks["sequence"]["weighting"].startswith("FLAIR")
    assert "TR 9000 ms, TE 120 ms, TI 2500 ms" in verdict.reasons[0]


def test_a_dynamic_series_with_any_frame_after_the_injection_is_post_contrast():
    """Per-frame Contrast/Bolus Agent Administered: "given" when any frame says YES (a dynamic
    series may start before the injection), "not given" when all say NO, None when none says."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from assistant.scan.dicom.tags import contrast_agent

    def dynamic(*answers):
        ds = Dataset()
        frames = []
        for answer in answers:
            usage = Dataset()
            if answer is not None:
                usage.ContrastBolusAgentAdministered = answer
            group = Dataset()
            group.ContrastBolusUsageSequence = Sequence([usage])
            frames.append(group)
        ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
        return ds

    assert contrast_agent(dynamic("NO", "NO", "YES")) == "given"
    assert contrast_agent(dynamic("NO", "NO")) == "not given"
    assert contrast_agent(dynamic(None, None)) is None
    assert contrast_agent(Dataset()) is None


def test_a_post_contrast_series_is_refused_and_its_agent_text_never_leaves(tmp_path):
    """A contrast agent recorded in the header (the per-frame Contrast/Bolus Usage of an enhanced
    object, or the Contrast/Bolus Agent text of a classic one) refuses the scan with its own
    reason; the free text itself is never copied out, and "NONE" means no agent."""
    t1 = {
        "MRTimingAndRelatedParametersSequence": {"RepetitionTime": 500},
        "MREchoSequence": {"EffectiveEchoTime": 12},
    }
    usage = {"ContrastBolusUsageSequence": {"ContrastBolusAgentAdministered": "YES"}}
    scan = load_scan(_enhanced_mr(tmp_path, t1, usage, AcquisitionContrast="T1"))
    assert scan.metadata["ContrastAgent"] == "given"
    verdict = check_applicability(scan)
    assert not verdict.in_domain
    assert verdict.checks["sequence"]["other_weighting"] is False  # T1 timings
    assert verdict.checks["agent"] == {"contrast": "given", "post_contrast": True}
    assert "contrast agent was given" in verdict.reasons[0]
    assert "Analyse anyway" in verdict.reasons[0]

    usage = {"ContrastBolusUsageSequence": {"ContrastBolusAgentAdministered": "NO"}}
    scan = load_scan(_enhanced_mr(tmp_path, t1, usage, ContrastBolusAgent="Gadovist 7ml"))
    assert scan.metadata["ContrastAgent"] == "not given"  # the coded answer wins over text

    for text, given in (("Gadovist 7ml", "given"), ("NONE", "not given"), ("", None)):
        scan = load_scan(_enhanced_mr(tmp_path, t1, ContrastBolusAgent=text))
        assert scan.metadata.get("ContrastAgent") == given, text
        assert "Gadovist" not in repr(scan.metadata)
        verdict = check_applicability(scan)
        assert verdict.checks["agent"]["post_contrast"] is (given == "given")
        assert not any("Gadovist" in r for r in verdict.reasons)


def test_the_same_pixels_under_another_header_are_checked_again(tmp_path):
    """The analysis cache keys on the header values the check reads: the same pixels as a T2
    series and then with T1 timings get two verdicts, not the first one twice."""
    from assistant.analysis import Analyzer

    t2 = load_scan(pydicom_file("MR_small.dcm"))
    t1 = load_scan(
        _enhanced_mr(
            tmp_path,
            {
                "MRTimingAndRelatedParametersSequence": {"RepetitionTime": 500},
                "MREchoSequence": {"EffectiveEchoTime": 12},
            },
        )
    )
    np.testing.assert_array_equal(t1.pixels, t2.pixels)
    from assistant.detector.testing import tiny_detector

    analyzer = Analyzer(detector=tiny_detector(), use_retrieval=False)
    first, second = analyzer.analyze(t2), analyzer.analyze(t1)
    assert first.applicability.checks["sequence"]["other_weighting"] is True
    assert second.applicability.checks["sequence"]["other_weighting"] is False
    assert not second.applicability.in_domain  # 64 x 64 pixels, not a T1 brain slice


def _flair_like(pixels: np.ndarray, levels_from: np.ndarray | None = None) -> np.ndarray:
    """Grey matter brighter than white matter, fluid dark: the T1 levels of the tissue classes
    of `levels_from` (a slice on the training grid; default `pixels`) mapped to a FLAIR-like
    order and applied to `pixels` (partial volume lands in between)."""
    plane = pixels if levels_from is None else levels_from
    wm, gm = tissue_masks()
    lo = float(np.percentile(plane, 1))
    g, w = float(np.median(plane[gm])), float(np.median(plane[wm]))
    csf = lo + 0.3 * (g - lo)
    out = np.interp(pixels, [lo, csf, g, w], [lo, csf * 0.4, 1.1 * w, 0.8 * w])
    return out.astype(np.float32)


def test_white_matter_brighter_than_grey_matter_reads_as_t1():
    from assistant.domain.align2d import template_slice

    t1 = np.clip(template_slice(), 0, 1).astype(np.float32) * 1000.0
    ratio = wm_gm_ratio(t1)
    assert ratio is not None and ratio > MIN_WM_GM_RATIO + 0.1
    assert wm_gm_ratio(t1 * 3.0 + 200.0) == pytest.approx(ratio, rel=0.02)  # scale, offset
    assert wm_gm_ratio(_flair_like(t1)) < 1.0
    assert wm_gm_ratio(t1[:100]) is None  # not on the training grid
    assert wm_gm_ratio(np.zeros_like(t1)) is None  # no head


def test_a_volume_with_grey_brighter_than_white_is_refused_for_its_contrast():
    """The head template as a volume passes; with a FLAIR-like tissue order it still registers
    but is refused with the contrast reason and "Analyse anyway"."""
    t = load_domain_model().head_template
    vol = np.ascontiguousarray(np.asarray(t["volume"], np.float32)[:, ::-1, :]) * 1000.0
    t1 = Scan(pixels=vol, spacing=(2.0, 2.0, 2.0))
    verdict = check_applicability(t1)
    assert verdict.in_domain, verdict.reasons
    assert verdict.checks["contrast"]["not_t1"] is False
    flair = _flair_like(vol, levels_from=verdict.registered.scan.pixels)
    verdict = check_applicability(Scan(pixels=flair, spacing=(2.0, 2.0, 2.0)))
    assert not verdict.in_domain and verdict.registered is not None
    contrast = verdict.checks["contrast"]
    assert contrast["not_t1"] is True and contrast["wm_gm_ratio"] < MIN_WM_GM_RATIO
    reason = next(r for r in verdict.reasons if "tissue contrast" in r)
    assert "T2, FLAIR or proton-density" in reason and "Analyse anyway" in reason
