"""Whole volumes end to end: every analysable axial level, 3D findings, synthetic 3D lesions.

- `analyze_volume(scan, detector) -> VolumeResult` (`assistant.volume.analyze`): register once,
  detect on every analysable level in batches, map the maps back to the native voxels, 3D
  connected components with volume, slice range, centroid, side and regions;
- `VolumeFinding`, `find_components` (`assistant.volume.components`);
- region names from label maps or an MNI atlas (`assistant.volume.regions`);
- seeded synthetic 3D lesions in NIfTI volumes (`assistant.volume.synth3d`,
  `python -m assistant.volume.synth3d`).

Layer: above `assistant.domain` (imports it, `assistant.detector`, `assistant.scan`,
`assistant.findings`, `assistant.preprocess`), below `retrieval` and `assistant.analysis`.
"""

from assistant.volume.analyze import VolumeResult, analyze_volume, candidate_levels
from assistant.volume.components import VolumeFinding, find_components
from assistant.volume.regions import MniAtlas, read_label_names

__all__ = [
    "MniAtlas",
    "VolumeFinding",
    "VolumeResult",
    "analyze_volume",
    "candidate_levels",
    "find_components",
    "read_label_names",
]
