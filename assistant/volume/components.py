"""3D findings: connected components of a volume's calibrated anomaly mask, measured.

A `VolumeFinding` is one 26-connected component of the native-grid mask (`analyze_volume` maps
every analysed slice's calibrated mask back to the volume's own voxels). It is measured on the
native grid: voxel count and volume in mm³ from the spacing, the range of native axial slices it
spans, its centroid as a native (z, y, x) voxel, in mm from the volume's centre (RAS: x to the
patient's right, y anterior, z superior) and in MNI mm (through the registration), its side, its
peak and mean anomaly, and, where labels or an atlas are given, the anatomical regions it falls in
(`assistant.volume.regions`).

Side: from the centroid's MNI x after the registration (the MNI midline is x = 0; within
`MIDLINE_MM` of it: "midline"), in the patient's frame when the scan records its orientation
(`Scan.patient_left`; "image_right" mirrors it) and in the image's frame otherwise, with the words
of `assistant.findings`. Without a registration the volume's centre column is the midline.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage

from assistant.findings import side_frame
from assistant.volume import regions as reg

# 0.03 of the brain's half width (about 70 mm), the 2D detector's midline band
MIDLINE_MM = 2.0
CONNECTIVITY = ndimage.generate_binary_structure(3, 3)  # 26-connected


@dataclass
class VolumeFinding:
    """One 3D candidate abnormality (see the module docstring). Voxel coordinates are native
    (z, y, x) indices of the scan's (Z inferior -> superior, Y anterior -> posterior, X patient
    left -> right) layout; `slice_range` is inclusive."""

    id: str  # "V1", "V2", ... by decreasing peak anomaly
    n_voxels: int
    volume_mm3: float | None  # None when the scan has no spacing
    slice_range: tuple[int, int]
    n_slices: int
    centroid_voxel: tuple[float, float, float]
    centroid_mm: tuple[float, float, float] | None  # RAS mm from the volume's centre voxel
    centroid_mni: tuple[float, float, float] | None  # MNI RAS mm (registration)
    side: str
    side_frame: str
    side_lean: str
    intensity: str  # hyperintense / hypointense / mixed vs the pseudo-healthy slices
    peak_anomaly: float
    mean_anomaly: float
    # the highest confidence of the 2D findings (per analysed slice) it contains, and its word
    confidence: float | None = None
    confidence_level: str | None = None
    level_range_mm: tuple[float, float] | None = None  # MNI z of its lowest / highest voxel
    regions: list[dict] = field(default_factory=list)  # {"name", "label", "fraction"}
    region_source: str | None = None  # "labels" (the volume's own), "atlas (...)", None
    tissue: dict | None = None  # MNI152 grey/white matter mix (`regions.tissue_mix`)
    slice_findings: list[dict] = field(default_factory=list)  # {"level_mm", "id"} 2D findings
    # seen on one analysed level only while several were analysed (`analyze_volume`,
    # MIN_LEVELS): weak evidence, like a slice's weaker regions; not a finding of the volume
    weak: bool = False
    # only a weaker piece of a slice finding (not its peak): that finding's confidence not taken
    weaker_piece: bool = False

    @property
    def n_levels(self) -> int:
        """How many analysed levels its 2D findings lie on."""
        return len({d["level_mm"] for d in self.slice_findings})

    def to_dict(self) -> dict:
        return {**asdict(self), "n_levels": self.n_levels}

    def where(self) -> str:
        """ "left, right frontal white matter" / "left, white matter" / "left"."""
        frame = "" if self.side_frame == "patient" else " (image side; orientation unknown)"
        place = self.side + frame
        if self.regions:
            names = [r["name"] for r in self.regions if r["label"] != 0] or [
                self.regions[0]["name"]
            ]
            return f"{place}, {' / '.join(names)}"
        if self.tissue:
            return f"{place}, {self.tissue['tissue']}"
        return place

    def describe(self) -> str:
        size = (
            f"{self.volume_mm3:.0f} mm³"
            if self.volume_mm3 is not None
            else f"{self.n_voxels} voxels"
        )
        lo, hi = self.slice_range
        conf = (
            ", no confidence of its own (a weaker piece of a region found on a slice)"
            if self.confidence is None and self.weaker_piece
            else ""
            if self.confidence is None
            else f", confidence {self.confidence:.2f} ({self.confidence_level})"
        )
        weak = (
            "; weak: seen on one analysed level only, may be noise or normal variation"
            if self.weak
            else ""
        )
        return (
            f"{self.id}: {self.intensity} region, {self.where()}, {size}, axial slices {lo}-{hi}, "
            f"peak anomaly {self.peak_anomaly:.3f}{conf}{weak}"
        )


def _without_hemisphere(region: dict) -> dict:
    """A region's name without its left/right ("right frontal white matter" -> "frontal white
    matter (hemisphere unknown)") for a scan whose orientation is not recorded."""
    name = str(region.get("name", ""))
    bare = re.sub(r"^(left|right|l|r)[ _-]+", "", name, flags=re.IGNORECASE)
    if bare == name:
        return region
    return {**region, "name": f"{bare} (hemisphere unknown)"}


def _lr(x: float) -> str:
    return "left" if x < 0 else "right"


def side_of(x_mm: float, patient_left: str | None) -> tuple[str, str, str]:
    """(side, side_lean, side_frame) of a point `x_mm` right of the midline in the image's
    frame (column 0 on the left); mirrored for "image_right" scans."""
    side = "midline" if abs(x_mm) < MIDLINE_MM else _lr(x_mm)
    lean = _lr(x_mm)
    if patient_left == "image_right":
        lean = "left" if lean == "right" else "right"
        side = side if side == "midline" else ("left" if side == "right" else "right")
    return side, lean, side_frame(patient_left)


def centre_mm(
    voxel: np.ndarray, shape: tuple[int, ...], spacing: tuple[float, ...] | None
) -> np.ndarray | None:
    """RAS mm from the volume's centre voxel of native (z, y, x) voxel coordinates (N, 3)."""
    if spacing is None:
        return None
    v = np.atleast_2d(np.asarray(voxel, dtype=np.float64))
    c = (np.asarray(shape, dtype=np.float64) - 1) / 2
    sz, sy, sx = (float(s) for s in spacing)
    return np.stack([(v[:, 2] - c[2]) * sx, (c[1] - v[:, 1]) * sy, (v[:, 0] - c[0]) * sz], axis=1)


def voxel_points(voxel_to_mni: np.ndarray, zyx: np.ndarray) -> np.ndarray:
    """MNI RAS mm (N, 3) of native (z, y, x) voxel coordinates (N, 3)."""
    v = np.asarray(zyx, dtype=np.float64)
    return v @ voxel_to_mni[:3, :3].T + voxel_to_mni[:3, 3]


def _intensity(vals: np.ndarray, delta: np.ndarray) -> str:
    """As the 2D detector's: the anomaly-weighted balance of brighter vs darker than the
    pseudo-healthy image (near 0: mixed)."""
    w = vals / max(float(vals.sum()), 1e-12)
    balance = float((w * delta).sum() / max(float((w * np.abs(delta)).sum()), 1e-12))
    return "hyperintense" if balance > 0.3 else "hypointense" if balance < -0.3 else "mixed"


def find_components(
    mask: np.ndarray,
    anomaly: np.ndarray,
    *,
    spacing: tuple[float, float, float] | None,
    patient_left: str | None,
    voxel_to_mni: np.ndarray | None = None,
    delta: np.ndarray | None = None,
    slice_finding: np.ndarray | None = None,
    slice_findings: list[dict] | None = None,
    labels: np.ndarray | None = None,
    label_names: dict[int, str] | None = None,
    atlas: reg.MniAtlas | None = None,
    tissue: bool = True,
    min_voxels: int = 1,
    return_labels: bool = False,
):
    """The 3D findings of a native (Z, Y, X) bool `mask` with its `anomaly` map (same grid).

    delta: input - pseudo-healthy (unit intensities) on the same grid, for the intensity word;
    slice_finding: int map of the 2D finding under each voxel (-1: none), indexing
    `slice_findings` ({"level_mm", "id", "confidence", "confidence_level"}); labels: a label
    map on the same grid with `label_names`; atlas: an MNI atlas (needs `voxel_to_mni`);
    tissue: add the MNI152 grey/white matter mix (needs `voxel_to_mni`). return_labels: also
    return an int32 map of the findings on the same grid (i for Vi, 0 elsewhere).
    """
    mask = np.asarray(mask, dtype=bool)
    if labels is not None and labels.shape != mask.shape:
        raise ValueError(f"labels {labels.shape} are not on the volume's grid {mask.shape}")
    lab, n = ndimage.label(mask, structure=CONNECTIVITY)
    if n == 0:
        return ([], np.zeros(mask.shape, np.int32)) if return_labels else []
    voxel_mm3 = float(np.prod(spacing)) if spacing is not None else None
    gm = wm = None
    if tissue and voxel_to_mni is not None:
        from assistant.domain.mni import tissue_maps

        gm, wm = tissue_maps()
    out = []
    for k, sl in enumerate(ndimage.find_objects(lab), start=1):
        local = np.nonzero(lab[sl] == k)
        zyx = np.stack([local[i] + sl[i].start for i in range(3)], axis=1)
        idx = tuple(zyx.T)
        vals = np.asarray(anomaly, dtype=np.float64)[idx]
        if len(zyx) < min_voxels:
            lab[idx] = 0
            continue
        centroid = zyx.mean(axis=0)
        mm = centre_mm(centroid, mask.shape, spacing)
        mni = pts = None
        if voxel_to_mni is not None:
            pts = voxel_points(voxel_to_mni, zyx)
            mni = pts.mean(axis=0)
            x_img = float(mni[0])
        else:  # no registration: the volume's centre column is the midline
            sx = float(spacing[2]) if spacing is not None else 1.0
            x_img = (float(centroid[2]) - (mask.shape[2] - 1) / 2) * sx
        side, lean, frame = side_of(x_img, patient_left)
        f = VolumeFinding(
            id="",
            n_voxels=int(len(zyx)),
            volume_mm3=round(len(zyx) * voxel_mm3, 1) if voxel_mm3 else None,
            slice_range=(int(zyx[:, 0].min()), int(zyx[:, 0].max())),
            n_slices=int(zyx[:, 0].max() - zyx[:, 0].min() + 1),
            centroid_voxel=tuple(round(float(c), 2) for c in centroid),
            centroid_mm=None if mm is None else tuple(round(float(c), 1) for c in mm[0]),
            centroid_mni=None if mni is None else tuple(round(float(c), 1) for c in mni),
            side=side,
            side_frame=frame,
            side_lean=lean,
            intensity=_intensity(vals, np.asarray(delta)[idx]) if delta is not None else "mixed",
            peak_anomaly=round(float(vals.max()), 5),
            mean_anomaly=round(float(vals.mean()), 5),
            level_range_mm=None
            if pts is None
            else (round(float(pts[:, 2].min()), 1), round(float(pts[:, 2].max()), 1)),
        )
        if slice_finding is not None and slice_findings:
            ids = np.unique(np.asarray(slice_finding)[idx])
            members = [slice_findings[i] for i in ids if i >= 0]
            f.slice_findings = [{"level_mm": m["level_mm"], "id": m["id"]} for m in members]
            # a 2D finding's confidence belongs to its peak: a component holding only a weaker
            # piece of it (a 2D region split across 3D components) does not inherit it
            own = [m for m in members if "peak" not in m or f.peak_anomaly >= 0.9 * m["peak"]]
            best = max(own, key=lambda m: m.get("confidence") or 0.0, default=None)
            f.weaker_piece = not own and any(m.get("confidence") is not None for m in members)
            if best is not None:
                f.confidence, f.confidence_level = (
                    best.get("confidence"),
                    best.get("confidence_level"),
                )
        if labels is not None:
            f.regions = reg.region_fractions(np.asarray(labels)[idx], label_names)
            f.region_source = "labels"
        elif atlas is not None and pts is not None:
            f.regions = reg.region_fractions(atlas.lookup(pts), atlas.names)
            f.region_source = f"atlas ({atlas.provenance})"
        if f.regions and frame != "patient" and f.region_source != "labels":
            # the orientation is not recorded: the atlas was registered to the image read as
            # if it were RAS, so the hemisphere in a region's name is as unknown as the side
            f.regions = [_without_hemisphere(r) for r in f.regions]
        if gm is not None and pts is not None:
            from assistant.domain.mni import sample

            f.tissue = reg.tissue_mix(sample(gm, pts, order=1), sample(wm, pts, order=1))
        out.append((k, f))
    out.sort(key=lambda kf: kf[1].peak_anomaly, reverse=True)
    renumber = np.zeros(n + 1, dtype=np.int32)
    for i, (k, f) in enumerate(out, start=1):
        f.id = f"V{i}"
        renumber[k] = i
    findings = [f for _, f in out]
    return (findings, renumber[lab]) if return_labels else findings
