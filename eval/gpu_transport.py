"""Send the whole-brain training data to a lent GPU in pieces, losslessly.

A lent GPU machine receives the working tree with each call, at most 64 MiB in all
(docs/volumes.md, "Training it on a lent GPU"); the train level set (`python -m
assistant.domain.levelset`, 9,490 slices of 128x128, 95 MB as npz) and the 466 mid-axial train
slices do not fit beside the shipped weights. `pack` stores every slice and every PNG as
lossless WebP (7.4 KB a level-set slice) in two npz parts, the first holding `share` of the
slices and all the rest (the level set's other arrays, the PNGs); `unpack` rebuilds a level
set whose arrays are identical to the original's and the PNG folder with identical pixels
(tested). Two calls in a row (the machine stays warm 30 s between calls) carry one part each:

    python -m eval.gpu_transport pack LEVELS.npz MIDAXIAL_DIR OUTDIR --share 0.6
    # on the GPU machine, after both calls:
    python -m eval.gpu_transport unpack OUTDIR/part0.npz OUTDIR/part1.npz \
        --levels OUT/levels_train.npz --slices DIR

`assistant train --volumes ... --out OUT` reads `OUT/levels_train.npz` when it exists, so
only the level set travels, not the volumes (nor SimpleITK, which that machine lacks).
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image


def encode(a: np.ndarray) -> bytes:
    """A 2D uint8 array as lossless WebP."""
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="WEBP", lossless=True, quality=100, method=4)
    return buf.getvalue()


def decode(b: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(b)).convert("L"))


def pack(levels: str | Path, slices: str | Path | None, outdir: str | Path, share: float = 0.6):
    """Write OUTDIR/part0.npz and OUTDIR/part1.npz; returns their paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with np.load(levels) as d:
        meta = {k: d[k] for k in d.files if k != "images"}
        images = d["images"]
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"{levels}: images must be (N, S, S) uint8, not {images.dtype}")
    blobs = [encode(a) for a in images]
    pngs = sorted(Path(slices).glob("*.png")) if slices else []
    cut = int(round(len(blobs) * share))
    first = {f"meta_{k}": v for k, v in meta.items()}
    first["shape"] = np.asarray(images.shape)
    first["slice_names"] = np.asarray([p.name for p in pngs])
    first["slice_blobs"] = np.asarray(
        [encode(np.asarray(Image.open(p).convert("L"))) for p in pngs], dtype=object
    )
    paths = [outdir / "part0.npz", outdir / "part1.npz"]
    for path, (lo, hi), extra in zip(
        paths, [(0, cut), (cut, len(blobs))], [first, {}], strict=True
    ):
        np.savez(path, start=np.asarray(lo), blobs=np.asarray(blobs[lo:hi], dtype=object), **extra)
    return paths


def unpack(parts, levels_out: str | Path, slices_out: str | Path | None = None) -> Path:
    """Rebuild the level set (and the PNG folder) from `parts`, part0 first."""
    images, meta = None, {}
    for part in parts:
        with np.load(part, allow_pickle=True) as z:
            if "shape" in z.files:
                images = np.zeros(tuple(int(s) for s in z["shape"]), np.uint8)
                meta = {k[len("meta_") :]: z[k] for k in z.files if k.startswith("meta_")}
                if slices_out is not None:
                    Path(slices_out).mkdir(parents=True, exist_ok=True)
                    for name, b in zip(z["slice_names"], z["slice_blobs"], strict=True):
                        Image.fromarray(decode(b)).save(Path(slices_out) / str(name))
            if images is None:
                raise ValueError("give part0 (the one with the level set's shape) first")
            start = int(z["start"])
            for i, b in enumerate(z["blobs"]):
                images[start + i] = decode(b)
    levels_out = Path(levels_out)
    levels_out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(levels_out, images=images, **meta)
    return levels_out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("pack")
    a.add_argument("levels")
    a.add_argument("slices", help="folder of mid-axial PNG slices ('' for none)")
    a.add_argument("outdir")
    a.add_argument("--share", type=float, default=0.6, help="share of the slices in part0")
    b = sub.add_parser("unpack")
    b.add_argument("parts", nargs="+")
    b.add_argument("--levels", required=True, help="level set to write (.npz)")
    b.add_argument("--slices", help="folder to write the PNG slices to")
    args = p.parse_args(argv)
    if args.cmd == "pack":
        for path in pack(args.levels, args.slices or None, args.outdir, args.share):
            print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")
    else:
        print(unpack(args.parts, args.levels, args.slices))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
