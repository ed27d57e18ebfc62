"""Build an anomaly-QA benchmark in VQA-RAD format from a synthetic lesion data set.

Input: a folder written by `assistant.synth.synthesize_dataset` (``images/NAME.png``,
``masks/NAME.png``, ``labels.jsonl``). Every image gets closed questions whose answers come from
its labels (never from a model):

| subtype            | question_type | example                                                    | answers |
|--------------------|---------------|------------------------------------------------------------|---------|
| presence           | PRES          | Is there a lesion in this brain?                           | yes/no  |
| presence_negated   | PRES          | Is this a normal brain?                                    | yes/no  |
| side               | POS           | Is the lesion on the left or right side of the image?      | left/right |
| side_yesno         | POS           | Is the lesion on the left side of the image?               | yes/no  |
| anterior_posterior | POS           | Is the lesion in the anterior or posterior part of the brain? | anterior/posterior |
| intensity          | ATTRIB        | Is the lesion hyperintense or hypointense ...?             | hyperintense/hypointense |
| size               | SIZE          | Is the lesion small, medium or large?                      | THOR's size bins |

Healthy images get the two presence questions only. Side is the IMAGE side (column < W/2 is
"left"), anterior is the upper part of the image (above the brain's centroid row), as in the
synthesiser's labels. Questions whose answer hinges on a few pixels are not asked: side when the
lesion centroid lies within `side_margin` x W of the midline, anterior/posterior within
`ap_margin` x H of the brain's centroid row; intensity is not asked for ``mixed`` (ring)
lesions. Size bins are those of the synthesiser (THOR's at 128x128: small <= 71 px, medium up
to 570 px, large above; areas scaled by H x W / 128²). Every record also carries the image's
`lesion_size` ("none" for a healthy image), which `eval.qa` uses to report each subtype by
lesion size (`by_lesion_size` in metrics.json, a table in report.md).

Usage:
    python -m eval.anomaly_qa --data DIR [--healthy ../shared/data/ixi-t1-midaxial/val] \
        [--out DIR/anomaly_qa.json]
With ``--healthy`` the lesion set is first synthesised into ``--data`` (half healthy by default,
so that "always no" scores 0.5 on presence). Then evaluate with
    python -m eval.qa --benchmark DIR/anomaly_qa.json --format vqa-rad --images DIR ...
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

PRESENCE = (
    "Is there a lesion in this brain?",
    "Is there an abnormality in this scan?",
    "Does this image show a lesion?",
)
PRESENCE_NEGATED = (
    "Is this a normal brain?",
    "Does this brain look normal?",
    "Is this scan free of abnormalities?",
)
SIDE = "Is the lesion on the left or right side of the image?"
SIDE_YESNO = "Is the lesion on the {side} side of the image?"
AP = "Is the lesion in the anterior or posterior part of the brain?"
INTENSITY = "Is the lesion hyperintense or hypointense relative to the surrounding tissue?"
SIZE = "Is the lesion small, medium or large?"


@dataclass
class AnomalyQAConfig:
    seed: int = 0  # picks phrasings and the side asked about in yes/no side questions
    side_margin: float = 0.03  # skip side questions within this fraction of W of the midline
    ap_margin: float = 0.05  # skip anterior/posterior within this fraction of H of the centre


def _read_labels(data_dir: Path) -> list[dict]:
    path = data_dir / "labels.jsonl"
    if not path.is_file():
        raise ValueError(
            f"{data_dir} has no labels.jsonl; pass a folder written by "
            "assistant.synth.synthesize_dataset (or use --healthy to create one)"
        )
    labels = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            rec = json.loads(line)
            if "name" not in rec or "abnormal" not in rec:
                raise ValueError(f"labels.jsonl line {n}: needs 'name' and 'abnormal', got {rec}")
            labels.append(rec)
    if not labels:
        raise ValueError(f"{path} is empty")
    return labels


def _brain_row(image_path: Path) -> tuple[float, tuple[int, int]]:
    """Centroid row of the brain mask and the image shape (H, W)."""
    from assistant.synth import brain_mask_for, load_image01

    img = load_image01(image_path)
    brain = brain_mask_for(img)
    rows = np.nonzero(brain)[0] if brain.any() else np.arange(img.shape[0])
    return float(rows.mean()), img.shape


def _record(
    qid: str,
    image: str,
    question: str,
    answer: str,
    qtype: str,
    subtype: str,
    lesion_size: str,
    phrase_type: str = "freeform",
) -> dict:
    return {
        "qid": qid,
        "image_name": image,
        "image_organ": "HEAD",
        "question": question,
        "answer": answer,
        "answer_type": "CLOSED",
        "question_type": qtype,
        "question_subtype": subtype,
        "lesion_size": lesion_size,  # the image's lesion size bin, "none" for a healthy image
        "phrase_type": phrase_type,
        "evaluation": "given",
    }


def _presence_records(stem: str, image: str, abnormal: bool, size: str, rng) -> list[dict]:
    """The two presence questions every image gets (phrasings drawn from `rng`)."""
    yes, no = ("yes", "no") if abnormal else ("no", "yes")
    return [
        _record(
            f"{stem}-presence", image, str(rng.choice(PRESENCE)), yes, "PRES", "presence", size
        ),
        _record(
            f"{stem}-presence_negated",
            image,
            str(rng.choice(PRESENCE_NEGATED)),
            no,
            "PRES",
            "presence_negated",
            size,
            phrase_type="para",
        ),
    ]


def _side_records(stem: str, image: str, lab: dict, size: str, rng) -> list[dict]:
    """The side question and its yes/no form (the side asked about drawn from `rng`)."""
    asked = str(rng.choice(("left", "right")))
    return [
        _record(f"{stem}-side", image, SIDE, lab["side"], "POS", "side", size),
        _record(
            f"{stem}-side_yesno",
            image,
            SIDE_YESNO.format(side=asked),
            "yes" if asked == lab["side"] else "no",
            "POS",
            "side_yesno",
            size,
        ),
    ]


def _lesion_records(
    stem: str, image: str, lab: dict, data_dir: Path, size: str, cfg: AnomalyQAConfig, rng
) -> list[dict]:
    """The questions about an abnormal image's lesion: side, anterior/posterior, intensity and
    size, each only where its answer does not hinge on a few pixels."""
    records = []
    row, col = (float(c) for c in lab["centroid"])
    brain_row, (h, w) = _brain_row(data_dir / image)
    if abs(col - w / 2) >= cfg.side_margin * w:
        records += _side_records(stem, image, lab, size, rng)
    if abs(row - brain_row) >= cfg.ap_margin * h:
        records.append(
            _record(
                f"{stem}-anterior_posterior",
                image,
                AP,
                lab["ap"],
                "POS",
                "anterior_posterior",
                size,
            )
        )
    if lab.get("intensity") in ("hyperintense", "hypointense"):
        records.append(
            _record(
                f"{stem}-intensity", image, INTENSITY, lab["intensity"], "ATTRIB", "intensity", size
            )
        )
    if lab.get("size_bin") in ("small", "medium", "large"):
        records.append(_record(f"{stem}-size", image, SIZE, lab["size_bin"], "SIZE", "size", size))
    return records


def build_anomaly_qa(data_dir: str | Path, config: AnomalyQAConfig | None = None) -> list[dict]:
    """VQA-RAD-format records (a list of dicts) for the synthetic set in `data_dir`.

    `image_name` is relative to `data_dir` (``images/NAME.png``).
    """
    cfg = config or AnomalyQAConfig()
    data_dir = Path(data_dir)
    rng = np.random.default_rng(cfg.seed)
    records: list[dict] = []
    for lab in _read_labels(data_dir):
        name = str(lab["name"])
        image = f"images/{name}"
        if not (data_dir / image).is_file():
            raise ValueError(f"labels.jsonl names {name!r} but {data_dir / image} does not exist")
        stem = Path(name).stem
        abnormal = bool(lab["abnormal"])
        size = str(lab.get("size_bin") or "none") if abnormal else "none"
        records += _presence_records(stem, image, abnormal, size, rng)
        if abnormal:
            records += _lesion_records(stem, image, lab, data_dir, size, cfg, rng)
    return records


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m eval.anomaly_qa", description=__doc__.split("\n")[0]
    )
    p.add_argument(
        "--data", required=True, type=Path, help="synthetic lesion folder (labels.jsonl)"
    )
    p.add_argument("--healthy", type=Path, help="first synthesise --data from these healthy images")
    p.add_argument("--healthy-fraction", type=float, default=0.5)
    p.add_argument("--n-per-image", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="benchmark JSON (default DATA/anomaly_qa.json)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.healthy is not None:
            from assistant.synth import synthesize_dataset

            s = synthesize_dataset(
                args.healthy,
                args.data,
                n_per_image=args.n_per_image,
                healthy_fraction=args.healthy_fraction,
                seed=args.seed,
                progress=True,
            )
            logger.info("synthesised %d images (%d abnormal)", s.n_images, s.n_abnormal)
        records = build_anomaly_qa(args.data, AnomalyQAConfig(seed=args.seed))
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out or args.data / "anomaly_qa.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(records, indent=1))
    counts = Counter(r["question_subtype"] for r in records)
    logger.info("wrote %d questions to %s: %s", len(records), out, dict(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
