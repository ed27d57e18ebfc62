"""Applicability of the detector: is a scan inside what it knows? (issue 13)

- `check_applicability(scan, slice_index=None, *, model_dir=None) -> Applicability`:
  metadata (modality, plane, body part), typicality of the slice against the training slices,
  and its axial level (estimated from the image, or from registration for a volume);
- `register_volume(scan) -> Registered`: a 3D head volume registered to MNI space (SimpleITK,
  affine, mutual information) and its slice at the trained level on the training grid.
- `series.choose_t1_series`: of a study's several series (a folder or .zip), the one the
  detector fits, from each series' own header (`load_scan(..., choose_series=...)`);
- `flat.flat_fraction`: label maps, segmentations and masks uploaded instead of a scan, which
  the check refuses as such before anything else.

Fitted artifacts: `assistant/weights/ixi-t1-128/domain/` (`python -m assistant.domain.fit`).
Layer L2b: imports `assistant.scan`, `assistant.preprocess` and third-party packages only.
"""

from assistant.domain.check import Applicability, check_analysed_plane, check_applicability
from assistant.domain.model import DomainModel, load_domain_model
from assistant.domain.register import Registered, register_volume

__all__ = [
    "Applicability",
    "DomainModel",
    "Registered",
    "check_analysed_plane",
    "check_applicability",
    "load_domain_model",
    "register_volume",
]
