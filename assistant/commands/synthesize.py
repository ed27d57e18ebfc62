"""`assistant synthesize-lesions`: an evaluation set with synthetic lesions from healthy scans."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synthesize-lesions",
        help="paint synthetic lesions into healthy scans (images + masks + labels.jsonl)",
        description=(
            "Write OUT/images/NAME.png for every input image; a fraction stays healthy, the others "
            "get a synthetic lesion (hyper-/hypointense, irregular, textured, mass effect, ring; "
            "THOR size bins) with its mask in OUT/masks/NAME.png. Images with a same-named mask "
            "are abnormal. OUT/labels.jsonl lists kind, size bin, side, position and area."
        ),
    )
    p.add_argument("--images", required=True, help="folder of healthy scans (any loadable format)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n-per-image", type=int, default=1, help="lesion images per abnormal source")
    p.add_argument(
        "--healthy-fraction",
        type=float,
        default=0.3,
        help="fraction of source images written unchanged as healthy (default 0.3)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.synth import synthesize_dataset

    summary = synthesize_dataset(
        args.images,
        args.out,
        n_per_image=args.n_per_image,
        healthy_fraction=args.healthy_fraction,
        seed=args.seed,
        progress=True,
    )
    print(
        json.dumps(
            {
                "out": str(summary.out_dir),
                "n_images": summary.n_images,
                "n_abnormal": summary.n_abnormal,
                "n_healthy": summary.n_healthy,
                "by_kind": summary.by_kind,
                "by_size": summary.by_size,
            },
            indent=2,
        )
    )
    return 0
