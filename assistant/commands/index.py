"""`assistant index build|search`: build a case library and search it."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "index",
        help="build or search a case library (FAISS)",
        description="Build a case library from a manifest or search one.",
    )
    sub = p.add_subparsers(dest="index_command", metavar="{build,search}", required=True)

    b = sub.add_parser(
        "build",
        help="embed and index cases",
        description=(
            "Index a case manifest (--cases FILE --out DIR), build the default library "
            "(--default), or generate a development library with synthetic lesions from a "
            "folder of healthy images (--synthetic-from DIR --out DIR). An existing index at "
            "--out is extended; ids it already holds are skipped."
        ),
    )
    src = b.add_mutually_exclusive_group(required=True)
    src.add_argument("--cases", type=Path, help="manifest (.jsonl or .csv); see docs/retrieval.md")
    src.add_argument("--default", action="store_true", help="(re)build the default library")
    src.add_argument("--synthetic-from", type=Path, metavar="DIR", help="healthy image folder")
    b.add_argument("--out", type=Path, help="index folder (default library: the cache folder)")
    b.add_argument("--backend", choices=["auto", "flat", "hnsw", "ivf"], default="auto")
    b.add_argument("--limit", type=int, help="--synthetic-from: use the first N images")
    b.add_argument(
        "--per-image", type=int, default=6, help="--synthetic-from: lesions per image (max 36)"
    )
    b.add_argument("--seed", type=int, default=0)
    b.set_defaults(func=build)

    s = sub.add_parser("search", help="search a library", description="Print the closest cases.")
    s.add_argument("--index", type=Path, help="library or index folder (default: the default one)")
    s.add_argument("--image", type=Path, help="scan file (any format the loader reads)")
    s.add_argument("--slice", type=int, help="axial slice of a volume (default: middle)")
    s.add_argument("--text", help="question or findings text")
    s.add_argument(
        "--detect", action="store_true", help="run the detector on --image and use its findings"
    )
    s.add_argument("-k", type=int, default=5, help="at most this many cases (default 5)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=search)


def build(args: argparse.Namespace) -> int:
    from retrieval.library import build_default_library, build_index, default_library_dir

    if args.default:
        out = build_default_library(args.out or default_library_dir())
        print(f"default library built in {out}")
        return 0
    if args.out is None:
        raise ValueError("--out DIR is required with --cases and --synthetic-from")
    if args.synthetic_from is not None:
        return _build_synthetic(args)
    report = build_index(args.cases, args.out, backend=args.backend)
    for p in report.problems:
        print(f"skipped {args.cases.name} {p}", file=sys.stderr)
    for cid, why in report.added.failed.items():
        print(f"skipped case {cid}: {why}", file=sys.stderr)
    if report.added.duplicates:
        print(f"skipped {len(report.added.duplicates)} ids already indexed", file=sys.stderr)
    print(f"indexed {report.added.added} cases into {report.out} ({report.total} in total)")
    return 0


def _build_synthetic(args: argparse.Namespace) -> int:
    from retrieval.index import CaseIndex
    from retrieval.knowledge import load_corpus
    from retrieval.library import KNOWLEDGE_MIN_SIMILARITY, build_index
    from retrieval.synthetic import folder_slices, make_synthetic_cases

    folder = args.synthetic_from
    slices = folder_slices(folder, limit=args.limit)
    cases = make_synthetic_cases(
        slices,
        args.out / "data",
        source=f"{folder.name} images with a synthetic lesion",
        license="as the source images (see their folder's README)",
        per_slice=args.per_image,
        seed=args.seed,
        progress=True,
    )
    report = build_index(cases, args.out / "cases", backend=args.backend)
    if not (args.out / "knowledge" / "index.json").is_file():
        kidx = CaseIndex(parts=("text",), min_similarity=KNOWLEDGE_MIN_SIMILARITY)
        build_index(load_corpus(), args.out / "knowledge", index=kidx)
    print(f"indexed {report.added.added} synthetic cases into {args.out} ({report.total} total)")
    return 0


def _open(path: Path | None):
    from retrieval.index import CaseIndex
    from retrieval.library import Library, default_library

    if path is None:
        return default_library()
    if (path / "cases" / "index.json").is_file():
        return Library.load(path)
    return Library(CaseIndex.load(path), None, path)


def search(args: argparse.Namespace) -> int:
    if args.image is None and not args.text:
        raise ValueError("give --image SCAN and/or --text '...'")
    image, findings = None, None
    if args.image is not None:
        from assistant.preprocess import to_unit
        from assistant.scan import load_scan

        scan = load_scan(args.image).slice2d(args.slice)
        image = to_unit(scan.pixels, window=scan.window)
        if args.detect:
            from assistant.detector import Detector

            result = Detector.from_pretrained()(scan)
            image, findings = result.image, result
    lib = _open(args.index)
    res = lib.search(image=image, text=args.text, findings=findings, k=args.k)
    if args.json:
        out = {"cases": res.cases.to_dict(), "knowledge": res.knowledge.to_dict()}
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 0
    print(f"cases (weights {_fmt(res.cases.weights)}):")
    if res.cases.no_match:
        print(f"  {res.cases.message}")
    for h in res.cases.hits:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in h.parts.items())
        flag = " [synthetic]" if h.synthetic else ""
        print(f"  {h.id}  similarity {h.similarity:.3f} ({parts}){flag}")
        print(f"    findings: {h.findings}")
        if h.impression:
            print(f"    impression: {h.impression}")
        if h.excerpt and h.excerpt != h.findings:
            print(f"    report: {h.excerpt}")
    if res.knowledge.hits:
        print("knowledge:")
        for h in res.knowledge.hits:
            print(f"  {h.id}  similarity {h.similarity:.3f}  [{h.source}; {h.license}]")
            print(f"    {h.excerpt}")
    return 0


def _fmt(w: dict) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in w.items()) or "-"
