"""Anatomical regions of 3D findings: label maps, their names, and the tissue class.

What is possible, and what is not, without a shipped labelled atlas (no downloads at run time):

- **Labels on the volume's own grid** (`labels=`): a label map of the same volume, e.g. the
  NiChart DLMUSE maps of the IXI volumes (`labels/{split}/*_T1_DLMUSE.nii.gz`, 145 regions),
  with names from a `Index,Code,Name` CSV (`labels/muse_rois.csv`). Region names are then exact
  to the labelling: "right thalamus proper", "left frontal white matter".
- **A labelled atlas in MNI space** (`atlas=`): read at each finding voxel's MNI point after
  the affine registration, so names are approximate (a few mm; cortical labels blur across
  subjects). One is packaged, `assistant/volume/data/muse_mni_2mm.npz` (45 KB): the majority
  vote of the DLMUSE maps of the 146 IXI train volumes registered to MNI
  (`python -m assistant.volume.atlas`); data derived from IXI (CC BY-SA 3.0) and DLMUSE. On 5
  val volumes it agrees with their own DLMUSE label on 65% of the named voxels, names the
  largest region of a 5 mm ball as the volume's own labels do in 73% of balls, and its
  hemisphere in 93% (`eval/results/volumes_atlas_check.json`). `analyze_volume` uses it by
  default.
- **Always** (nilearn packages them): the MNI152 grey/white-matter probability maps give each
  finding's tissue mix ("white matter", "grey matter", or "CSF / outside the brain"), and the
  registration gives its hemisphere. nilearn's labelled atlases (Harvard-Oxford, AAL, Destrieux,
  ...) are downloaded by `fetch_atlas_*`, so none of them is used.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

# words for the DLMUSE codes' abbreviations
_WORDS = {"WM": "white matter", "DC": "diencephalon"}
_SIDES = {"R": "right", "L": "left"}
_SHORT = {"inf": "inferior", "lat": "lateral", "sup": "superior"}
MIN_REGION_FRACTION = 0.1  # a finding "falls in" a region holding at least this of its voxels
MAX_REGIONS = 3
OUTSIDE = "outside the named regions"


def humanize(name: str) -> str:
    """A label name as words: "Frontal_WM_R" -> "right frontal white matter",
    "ThalamusProper_L" -> "left thalamus proper", "3rdVentricle" -> "3rd ventricle"."""
    parts = [p for p in str(name).split("_") if p]
    side = ""
    if len(parts) > 1 and parts[-1] in _SIDES:
        side = _SIDES[parts.pop()]
    words = []
    for part in parts:
        if part in _WORDS:
            words.append(_WORDS[part])
            continue
        part = re.sub(r"(\d)to(\d)", r"\1 to \2", part)
        for abbr, word in _WORDS.items():  # "VentralDC" -> "Ventral diencephalon"
            part = re.sub(rf"(?<=[a-z]){abbr}$", " " + word, part)
        split = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", part).lower().split()
        words.append(" ".join(_SHORT.get(w, w) for w in split))
    text = " ".join(w for w in words if w)
    return f"{side} {text}".strip()


def read_label_names(path: str | Path) -> dict[int, str]:
    """{label index: human name} from a CSV with columns Index and Name (DLMUSE's
    `muse_rois.csv`: `Index,Code,Name`)."""
    out: dict[int, str] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            keys = {k.strip().lower(): v for k, v in row.items() if k}
            if "index" in keys and "name" in keys:
                out[int(float(keys["index"]))] = humanize(keys["name"].strip())
    if not out:
        raise ValueError(f"{path}: no Index,Name rows")
    return out


def region_fractions(
    labels: np.ndarray, names: dict[int, str] | None, min_fraction: float = MIN_REGION_FRACTION
) -> list[dict]:
    """The regions a finding falls in, from the labels of its voxels (1D int array): the
    labelled regions holding at least `min_fraction` of them (at most `MAX_REGIONS`, largest
    first) as {"name", "label", "fraction"}; label 0, and with `names` every label they do not
    name (DLMUSE maps hold an unnamed label 1 along the brain's outer border), count as 0,
    "outside the named regions"."""
    lab = np.asarray(labels).astype(np.int64).ravel()
    if lab.size == 0:
        return []
    if names:
        lab = np.where(np.isin(lab, np.fromiter(names, dtype=np.int64)), lab, 0)
    values, counts = np.unique(lab, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    out = []
    for i in order:
        frac = counts[i] / lab.size
        if frac < min_fraction:
            break
        v = int(values[i])
        name = OUTSIDE if v == 0 else (names or {}).get(v, f"label {v}")
        out.append({"name": name, "label": v, "fraction": round(float(frac), 3)})
        if len(out) == MAX_REGIONS:
            break
    return out


def tissue_mix(gm: np.ndarray, wm: np.ndarray) -> dict[str, float]:
    """Mean grey-matter / white-matter / other probability of a finding's voxels (MNI152 2009
    tissue maps sampled at their MNI points) and the dominant class as `tissue`."""
    g = float(np.mean(gm)) if np.size(gm) else 0.0
    w = float(np.mean(wm)) if np.size(wm) else 0.0
    other = max(0.0, 1.0 - g - w)
    mix = {"grey matter": g, "white matter": w, "CSF / outside the brain": other}
    return {
        "tissue": max(mix, key=mix.get),
        **{k.replace(" / ", "_or_").replace(" ", "_"): round(v, 3) for k, v in mix.items()},
    }


class MniAtlas:
    """A labelled atlas in MNI space: labels (x, y, z) int on a `step` mm grid from `origin`,
    names {label: words}, and where it comes from (`provenance`)."""

    def __init__(
        self, labels: np.ndarray, origin, step: float, names: dict[int, str], provenance: str
    ):
        self.labels = np.asarray(labels)
        self.origin = np.asarray(origin, dtype=np.float64)
        self.step = float(step)
        self.names = dict(names)
        self.provenance = provenance

    @classmethod
    def load(cls, path: str | Path) -> MniAtlas:
        with np.load(path, allow_pickle=False) as z:
            names = dict(zip(z["name_labels"].tolist(), z["name_words"].tolist(), strict=True))
            return cls(z["labels"], z["origin"], float(z["step"]), names, str(z["provenance"]))

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.names)
        np.savez_compressed(
            path,
            labels=self.labels,
            origin=self.origin,
            step=np.float64(self.step),
            name_labels=np.asarray(keys, dtype=np.int64),
            name_words=np.asarray([self.names[k] for k in keys]),
            provenance=np.asarray(self.provenance),
        )
        return path

    def lookup(self, points: np.ndarray) -> np.ndarray:
        """Labels at MNI RAS mm `points` (N, 3), nearest neighbour (0 outside the atlas)."""
        idx = np.rint((np.asarray(points, dtype=np.float64) - self.origin) / self.step).astype(int)
        ok = np.all((idx >= 0) & (idx < np.asarray(self.labels.shape)), axis=1)
        out = np.zeros(len(idx), dtype=np.int64)
        out[ok] = self.labels[idx[ok, 0], idx[ok, 1], idx[ok, 2]]
        return out
