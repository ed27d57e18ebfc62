"""Validation noise-prediction loss of a checkpoint by MNI level band (the whole-brain model).

    python -m eval.level_loss --levels runs/whole_brain/levels_val.npz \
        --model assistant/weights/ixi-t1-128 --model runs/whole_brain --json OUT

The same fixed subset (16 slices per band, seeded), timesteps and noise as the per-band
`val_loss_*` entries that `assistant train --val-volumes` writes to `train_log.jsonl`, for each
`--model` side by side. A checkpoint without a level embedding (the shipped one) gets a
zero-initialised one, which leaves its outputs unchanged: its figures are "step 0" of a
level-aware fine-tune from it. The level set is built by `python -m assistant.domain.levelset`
(or by `assistant train --val-volumes`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from diffusers.training_utils import EMAModel

from assistant.detector.levels import is_level_aware, with_level_embedding
from assistant.detector.model import DiffusionModel
from assistant.detector.train import _val_levels, _val_loss
from eval import portable_path


def band_losses(model_dir: str, levels: str) -> dict[str, float]:
    """{band: loss} for one checkpoint folder."""
    model = DiffusionModel.load(model_dir)
    unet = model.unet if is_level_aware(model.unet) else with_level_embedding(model.unet)
    ema = EMAModel(unet.parameters())  # its shadow is the weights themselves
    cpu = torch.device("cpu")
    return {
        band: _val_loss(unet, ema, model.scheduler, xb, cpu, False, 4, lb)
        for band, (xb, lb) in _val_levels(levels).items()
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--levels", required=True, help="val level set (.npz)")
    p.add_argument("--model", action="append", required=True, help="checkpoint folder")
    p.add_argument("--json", required=True)
    args = p.parse_args(argv)
    out = {
        "levels": portable_path(args.levels),
        "losses": {portable_path(m): band_losses(m, args.levels) for m in args.model},
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
