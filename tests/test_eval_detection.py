"""Detection metrics (hand-computed cases) and the `eval.detection` pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assistant.detector.result import DetectionResult
from assistant.findings import Finding
from eval import detection
from eval.metrics import average_precision, candidate_thresholds, dice, dice_sweep, roc_auc

# ----------------------------------------------------------------------------- metrics


def test_roc_auc_hand_cases():
    # 4 pairs (pos, neg): (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4) -> 3/4
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert roc_auc([0.5, 0.5], [1, 0]) == pytest.approx(0.5)  # a tie counts one half
    assert roc_auc([1, 2, 3], [0, 1, 1]) == pytest.approx(1.0)
    assert roc_auc([3, 2, 1], [0, 1, 1]) == pytest.approx(0.0)
    assert roc_auc([1, 2], [1, 1]) is None


def test_average_precision_hand_cases():
    # ranked 0.8(+) 0.4(-) 0.35(+) 0.1(-): P@R=0.5 is 1, P@R=1 is 2/3 -> (1 + 2/3) / 2
    assert average_precision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(5 / 6)
    # a tie is one threshold: both enter together, precision 1/2 at recall 1
    assert average_precision([0.5, 0.5], [1, 0]) == pytest.approx(0.5)
    # tie group (0.9, 0.9) = one +, one -; then 0.2 (+): 0.5 * 1/2 + 0.5 * 2/3
    assert average_precision([0.9, 0.9, 0.2], [1, 0, 1]) == pytest.approx(0.25 + 1 / 3)
    assert average_precision([3, 2, 1], [1, 1, 0]) == pytest.approx(1.0)
    assert average_precision([1, 2], [0, 0]) is None
    with pytest.raises(ValueError, match="differ in size"):
        average_precision([1, 2, 3], [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        roc_auc([np.nan, 1], [0, 1])


def test_metrics_match_scikit_learn_with_ties():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.random(20_000) < 0.03
    s = np.round(rng.normal(size=y.size) + 1.5 * y, 1)  # rounding makes many ties
    assert roc_auc(s, y) == pytest.approx(sk.roc_auc_score(y, s), abs=1e-12)
    assert average_precision(s, y) == pytest.approx(sk.average_precision_score(y, s), abs=1e-12)


def test_dice_and_sweep_hand_cases():
    a = np.array([1, 1, 0, 0], bool)
    b = np.array([1, 0, 1, 0], bool)
    assert dice(a, b) == pytest.approx(0.5)
    assert dice(np.zeros(3, bool), np.zeros(3, bool)) == 1.0
    assert dice(a, np.zeros(4, bool)) == 0.0
    scores = np.array([0.9, 0.8, 0.1, 0.2])
    truth = np.array([1, 1, 0, 0], bool)
    t = np.array([0.05, 0.15, 0.5, 0.85, 0.95])
    # > 0.05: tp 2 fp 2 -> 4/6; > 0.15: tp 2 fp 1 -> 4/5; > 0.5: 1; > 0.85: tp 1 fn 1 -> 2/3
    expected = [4 / 6, 4 / 5, 1.0, 2 / 3, 0.0]
    assert dice_sweep([(scores, truth, 0)], t) == pytest.approx(expected)
    # two more true pixels outside the scored region are always missed: > 0.5 -> 4/6
    two = dice_sweep([(scores, truth, 0), (scores, truth, 2)], t)
    assert two[2] == pytest.approx((1.0 + 4 / 6) / 2)


def test_candidate_thresholds_cover_the_upper_tail():
    s = np.random.default_rng(1).random(100_000)
    t = candidate_thresholds(s)
    assert np.all(np.diff(t) > 0)
    assert t[-1] == s.max() and t[0] == s.min()
    assert (t > np.quantile(s, 0.99)).sum() >= 50  # dense where lesion thresholds lie


# ----------------------------------------------------------------------------- pipeline

H, W = 40, 36


class BrightnessDetector:
    """A transparent detector for tests: anomaly = |image - 0.5| inside a fixed foreground,
    calibrated thresholds given. Returns the real `DetectionResult`."""

    def __init__(self, pixel_threshold=0.2, score_threshold=0.2):
        self.pixel_threshold = pixel_threshold
        self.score_threshold = score_threshold

    def __call__(self, scan) -> DetectionResult:
        img = np.asarray(scan.pixels, np.float32) / 255.0
        fg = np.zeros(img.shape, bool)
        fg[4:-4, 4:-4] = True
        amap = np.where(fg, np.abs(img - 0.5), 0.0).astype(np.float32)
        mask = amap > self.pixel_threshold
        flagged = float(amap.max()) > self.score_threshold and mask.any()
        return DetectionResult(
            anomaly_map=amap,
            pseudo_healthy=np.full_like(img, 0.5),
            image=img,
            foreground=fg,
            mask=mask,
            findings=[_finding(mask)] if flagged else [],
            score=float(amap.max()),
            score_threshold=self.score_threshold,
            pixel_threshold=self.pixel_threshold,
            method="brightness",
            params={"k": 1},
            unet_calls=3,
        )


def _finding(mask: np.ndarray) -> Finding:
    """One finding covering `mask` (only its presence matters to the evaluation)."""
    rr, cc = np.nonzero(mask)
    box = (int(rr.min()), int(cc.min()), int(rr.max()) + 1, int(cc.max()) + 1)
    return Finding(
        "F1", int(mask.sum()), None, box, (float(rr.mean()), float(cc.mean())), "midline",
        "image", "central", "central", "hyperintense", 0.3, 0.4, 0.3, 0.9,
    )  # fmt: skip


def _write_set(root: Path, lesions: dict[str, tuple[slice, slice] | None]) -> tuple[Path, Path]:
    """Mid-grey images; a lesion (value 0.9) and its mask where given."""
    images, masks = root / "images", root / "masks"
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    for name, box in lesions.items():
        img = np.full((H, W), 0.5)
        if box is not None:
            img[box] = 0.9
            m = np.zeros((H, W), np.uint8)
            m[box] = 255
            Image.fromarray(m).save(masks / f"{name}.png")
        Image.fromarray(np.round(img * 255).astype(np.uint8)).save(images / f"{name}.png")
    return images, masks


def test_perfect_detector_scores_perfectly(tmp_path):
    images, masks = _write_set(
        tmp_path,
        {
            "a": (slice(10, 14), slice(10, 13)),  # 12 px
            "b": (slice(8, 30), slice(8, 28)),  # 440 px
            "h1": None,
            "h2": None,
        },
    )
    figures = detection.evaluate(BrightnessDetector(), images, masks)
    assert figures["n_images"] == 4 and figures["n_abnormal"] == 2 and figures["n_healthy"] == 2
    for key in ("pixel_auprc", "pixel_auroc", "dice_calibrated", "dice_oracle", "image_auroc"):
        assert figures[key] == pytest.approx(1.0), key
    assert figures["sensitivity"] == 1.0 and figures["specificity"] == 1.0
    assert figures["healthy_fp_fraction"] == 0.0
    assert figures["unet_calls_per_image"] == 3
    assert figures["seconds_per_image"] >= 0
    assert figures["method"] == "brightness" and figures["params"] == {"k": 1}
    # THOR bins scaled to 40x36: small <= 71 * 1440 / 16384 = 6.2, medium <= 50.1
    assert figures["n_by_size"] == {"small": 0, "medium": 1, "large": 1}
    assert figures["dice_by_size"]["small"] is None
    assert figures["dice_by_size"]["large"] == pytest.approx(1.0)
    assert any("upper bound" in n for n in figures["notes"])
    json.dumps(figures)  # JSON-ready


def test_figures_against_hand_computed_values(tmp_path):
    # pixel threshold 0.45 misses the 0.9 lesion (|0.9 - 0.5| = 0.4), image threshold 0.35
    # catches it; healthy h2 is white (|1 - 0.5| = 0.5) on its left half: flagged
    images, masks = _write_set(tmp_path, {"a": (slice(10, 20), slice(10, 20)), "h1": None})
    h2 = np.full((H, W), 128, np.uint8)
    h2[:, : W // 2] = 255
    Image.fromarray(h2).save(images / "h2.png")
    figures = detection.evaluate(BrightnessDetector(0.45, 0.35), images, masks)
    assert figures["dice_calibrated"] == 0.0
    assert figures["dice_oracle"] == pytest.approx(1.0)  # the best threshold separates
    assert 0.0 < figures["dice_oracle_threshold"] < 0.4
    assert figures["sensitivity"] == 1.0  # a scores 0.4 > 0.35
    assert figures["specificity"] == 0.5  # h2 scores 0.5 > 0.35, h1 0
    # foreground 32 x 28 = 896 px; h2 flags fg columns 4..17 = half of it; h1 none
    assert figures["healthy_fp_fraction"] == pytest.approx(0.25)
    fg, n_pos = 32 * 28, 100
    n_neg = 3 * fg - n_pos
    assert figures["pixel_prevalence"] == pytest.approx(n_pos / (3 * fg))
    # negatives: 448 at 0.5 rank above the 100 positives at 0.4, the rest (0) below them
    assert figures["pixel_auroc"] == pytest.approx((n_neg - 448) / n_neg)
    assert figures["pixel_auprc"] == pytest.approx(n_pos / (n_pos + 448))
    # image scores: a 0.4 beats h1 (0) but not h2 (0.5)
    assert figures["image_auroc"] == pytest.approx(0.5)


def test_summarize_subsamples_large_pixel_sets():
    rng = np.random.default_rng(0)
    results = []
    for i in range(3):
        truth = rng.random(1000) < 0.1
        scores = (rng.random(1000) + truth).astype(np.float32)
        results.append(
            detection.CaseResult(
                name=f"c{i}",
                abnormal=True,
                fg_scores=scores,
                fg_truth=truth,
                n_missed=0,
                area_px=int(truth.sum()),
                size_bin="medium",
                dice=0.5,
                flagged_fraction=0.1,
                score=1.0,
                is_abnormal=None,
                unet_calls=1,
                seconds=0.1,
            )
        )
    full = detection.summarize(results)
    sub = detection.summarize(results, max_pixels=1500)
    assert any("subsample of 1,500 of 3,000" in n for n in sub["notes"])
    assert sub["pixel_auroc"] == pytest.approx(full["pixel_auroc"], abs=0.05)
    assert sub["pixel_auroc"] == detection.summarize(results, max_pixels=1500)["pixel_auroc"]
    assert full["sensitivity"] is None and any("no calibrated" in n for n in full["notes"])
    assert full["healthy_fp_fraction"] is None


def test_bad_masks_and_folders(tmp_path):
    images, masks = _write_set(tmp_path, {"a": (slice(2, 5), slice(2, 5))})
    Image.fromarray(np.zeros((H + 1, W), np.uint8)).save(masks / "a.png")
    with pytest.raises(ValueError, match="own grid"):
        detection.evaluate(BrightnessDetector(), images, masks)
    with pytest.raises(FileNotFoundError):
        detection.find_cases(images, tmp_path / "nope")


def test_command_line_writes_json(tmp_path, monkeypatch, capsys):
    images, masks = _write_set(tmp_path, {"a": (slice(10, 20), slice(10, 20)), "h": None})
    seen = {}

    def fake_load(model, method, preset, autocast=None):
        seen.update(model=model, method=method, preset=preset, autocast=autocast)
        return BrightnessDetector()

    monkeypatch.setattr(detection, "load_detector", fake_load)
    out = tmp_path / "out" / "figures.json"
    argv = ["--images", str(images), "--masks", str(masks), "--json", str(out)]
    rc = detection.main([*argv, "--method", "thor", "--limit", "1", "--autocast", "off"])
    assert rc == 0
    assert seen == {"model": None, "method": "thor", "preset": None, "autocast": False}
    figures = json.loads(out.read_text())
    assert figures["n_images"] == 1 and figures["method_requested"] == "thor"
    assert figures["model"] == "default (shipped)" and figures["bf16_autocast"] is False
    assert "pixel_auprc" in json.loads(capsys.readouterr().out)


def test_end_to_end_with_a_tiny_detector(tmp_path):
    testing = pytest.importorskip("assistant.detector.testing")
    from assistant.synth import synthesize_dataset

    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        img = np.zeros((48, 40), np.uint8)
        img[4:-4, 3:-3] = 140 + rng.integers(0, 30, size=(40, 34))
        Image.fromarray(img).save(src / f"s{i}.png")
    synthesize_dataset(src, tmp_path / "set", healthy_fraction=1 / 3, seed=0)
    images, masks = tmp_path / "set" / "images", tmp_path / "set" / "masks"
    det = testing.tiny_detector(tmp_path)  # calibrated in memory, saved uncalibrated
    figures = detection.evaluate(det, images, masks)
    assert figures["n_images"] == 3 and figures["n_abnormal"] == 2
    assert 0.0 <= figures["pixel_auroc"] <= 1.0 and 0.0 <= figures["pixel_auprc"] <= 1.0
    assert figures["sensitivity"] in (0.0, 0.5, 1.0) and figures["specificity"] in (0.0, 1.0)
    assert figures["unet_calls_per_image"] >= 1 and figures["method"] == "thor"
    assert figures["dice_oracle"] >= figures["dice_calibrated"] - 1e-9


# ----------------------------------------------------------------------------- applicability


def test_lesions_hit_counts_components_with_more_than_a_tenth_flagged():
    truth = np.zeros((20, 20), bool)
    truth[1:3, 1:6] = True  # 10 px: 2 flagged = 20% -> hit
    truth[10:12, 1:6] = True  # 10 px: 1 flagged = 10% -> not hit (more than 10% needed)
    truth[15:18, 15:18] = True  # 9 px: none flagged
    truth[5, 10] = truth[6, 11] = True  # diagonal neighbours: one 8-connected lesion, all hit
    mask = np.zeros_like(truth)
    mask[1, 1:3] = mask[10, 1] = True
    mask[5, 10] = mask[6, 11] = True
    assert detection.lesions_hit(truth, mask) == (4, 2)
    assert detection.lesions_hit(np.zeros((4, 4), bool), mask[:4, :4]) == (0, 0)


def test_applicability_keys_and_in_domain_metrics(tmp_path):
    """The shipped check: mid-grey test images are out of domain, a head template slice at the
    trained level is in; the detector runs on all of them for the top-level keys."""
    from assistant.domain.align2d import template_slice  # skull on, like the training slices

    images, masks = _write_set(
        tmp_path, {"a": (slice(10, 20), slice(10, 20)), "b": (slice(6, 9), slice(6, 9)), "h1": None}
    )
    h2 = np.full((H, W), 128, np.uint8)
    h2[:, : W // 2] = 255  # flagged: a finding on a healthy image
    Image.fromarray(h2).save(images / "h2.png")
    brain = np.clip(template_slice() * 255, 0, 255).astype(np.uint8)
    Image.fromarray(brain).save(images / "brain.png")
    figures = detection.evaluate(BrightnessDetector(), images, masks)
    assert (figures["n_in_domain"], figures["n_out_of_domain"]) == (1, 4)
    assert {r["name"]: r["in_domain"] for r in figures["per_image"]} == {
        "a": False, "b": False, "brain": True, "h1": False, "h2": False,
    }  # fmt: skip
    assert figures["n_images"] == 5 and figures["lesion_hit_rate"] == 1.0
    assert figures["healthy_with_findings"] == pytest.approx(2 / 3)  # h2 and brain, not h1
    inside = figures["in_domain"]
    assert set(inside) == set(figures) - {"n_in_domain", "n_out_of_domain", "in_domain"} - {
        "notes", "per_image"
    }  # fmt: skip
    assert (inside["n_images"], inside["n_healthy"], inside["n_abnormal"]) == (1, 1, 0)
    assert inside["healthy_with_findings"] == 1.0 and inside["lesion_hit_rate"] is None
    assert inside["sensitivity"] is None and inside["specificity"] == 0.0
    json.dumps(figures)


def test_in_domain_metrics_follow_the_check(tmp_path):
    """With a given check, "in_domain" restricts every metric to the images it accepts."""
    from types import SimpleNamespace

    images, masks = _write_set(tmp_path, {"a": None, "h1": None})
    img = np.full((H, W), 128, np.uint8)
    img[6:10, 6:10] = 230  # |0.9 - 0.5| = 0.4 > 0.3: hit
    img[20:24, 20:24] = 180  # |0.71 - 0.5| = 0.21 < 0.3: missed
    Image.fromarray(img).save(images / "a.png")
    m = np.zeros((H, W), np.uint8)
    m[6:10, 6:10] = m[20:24, 20:24] = 255
    Image.fromarray(m).save(masks / "a.png")

    def check(scan):
        return SimpleNamespace(in_domain=bool(scan.pixels.max() > 200))  # only "a"

    figures = detection.evaluate(BrightnessDetector(0.3, 0.3), images, masks, check=check)
    assert (figures["n_in_domain"], figures["n_out_of_domain"]) == (1, 1)
    assert figures["lesion_hit_rate"] == 0.5 and figures["healthy_with_findings"] == 0.0
    inside = figures["in_domain"]
    assert inside["n_images"] == 1 and inside["n_abnormal"] == 1
    assert inside["lesion_hit_rate"] == 0.5 and inside["healthy_with_findings"] is None
    assert inside["dice_calibrated"] == figures["dice_calibrated"]
    a = next(r for r in figures["per_image"] if r["name"] == "a")
    assert (a["n_lesions"], a["n_lesions_hit"], a["n_findings"]) == (2, 1, 1)


def test_flagged_area_ratio_counts_the_regions_on_the_lesion():
    """How the sizes the detector reports compare with the lesion's (a cli trial found small
    lesions measured several times too big): the flagged regions that touch the lesion, over
    its area; None when none touches it."""
    import numpy as np

    from eval.detection import flagged_area_ratio

    truth = np.zeros((20, 20), bool)
    truth[5:9, 5:9] = True  # 16 px
    mask = np.zeros_like(truth)
    mask[4:12, 4:12] = True  # 64 px, on the lesion
    mask[15:18, 15:18] = True  # 9 px elsewhere: not counted
    assert flagged_area_ratio(mask, truth) == 4.0
    assert flagged_area_ratio(np.zeros_like(truth), truth) is None
    assert flagged_area_ratio(mask, np.zeros_like(truth)) is None
