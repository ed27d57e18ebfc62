"""Synthetic lesions on healthy 2D scans, for evaluation and for rare findings.

A lesion is painted into a healthy [0, 1] image inside the brain (never on its border):
the tissue under a smooth-edged shape is replaced by a level that differs from the local tissue
by 0.25..0.6 (in [0, 1] units), plus a little noise so that it looks acquired, not painted.

Kinds (`KINDS`):
- ``hyperintense`` / ``hypointense``: an elliptic blob brighter / darker than its surroundings.
- ``irregular``: a shape cut out of smooth random noise (lobulated border), either polarity.
- ``textured``: an irregular shape with a heterogeneous (noisy) interior, either polarity.
- ``mass_effect``: the surrounding tissue is pushed outwards by a smooth radial warp (e.g. the
  ventricles are displaced) and a lesion of either polarity sits at its centre.
- ``ring``: a bright rim around a dark core (ring-like lesion); its intensity is ``mixed``.

Sizes follow THOR's bins at 128x128 (Bercea et al., MICCAI 2024): small <= 71 px,
medium 71..570 px, large > 570 px, scaled by (H * W) / (128 * 128) for other image sizes
(`assistant.findings.size_bin`). The truth mask is the lesion's shape support (where the
smooth weight is at least 0.5); the displaced tissue of a mass effect is not part of it.

Everything is deterministic given the `numpy.random.Generator` passed in.

Modules: `lesion` (`synthesize_lesion`: one lesion in one image), `shapes` (its building blocks:
noise, outlines, soft edges, the mass effect's warp), `dataset` (`synthesize_dataset`: a lesion
evaluation set from a folder of healthy images, and the image-folder helpers).
"""

from assistant.synth.dataset import (
    IMAGE_SUFFIXES,
    SynthDatasetSummary,
    image_stem,
    list_images,
    load_image01,
    synthesize_dataset,
)
from assistant.synth.lesion import (
    CONTRAST_RANGE,
    KINDS,
    SynthLesion,
    brain_mask_for,
    synthesize_lesion,
)

__all__ = [
    "CONTRAST_RANGE",
    "IMAGE_SUFFIXES",
    "KINDS",
    "SynthDatasetSummary",
    "SynthLesion",
    "brain_mask_for",
    "image_stem",
    "list_images",
    "load_image01",
    "synthesize_dataset",
    "synthesize_lesion",
]
