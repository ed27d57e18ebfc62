"""`assistant report SCAN [--slice N] [--format md|json|fhir] [--out FILE]`: draft findings.

Technique / Findings / Impression built deterministically from the detector's findings and the
retrieved evidence, each sentence with its evidence ids. `fhir` writes an HL7 FHIR
DiagnosticReport (R4B models of fhir.resources; see `assistant.report`), validated before it is
written. No identifier or file name is written.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path

from assistant import DISCLAIMER
from assistant.commands.ask import add_analysis_args, analyse, settings_of

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="draft findings for a scan (Markdown, JSON or FHIR)",
        description="Draft findings (Technique / Findings / Impression) for a scan, each "
        "sentence linked to its evidence. " + DISCLAIMER,
    )
    add_analysis_args(p)
    p.add_argument("--format", choices=("md", "json", "fhir"), default="md", help="output format")
    p.add_argument("--out", type=Path, default=None, help="write to this file (default: stdout)")
    p.set_defaults(func=run)


def render(state, fmt: str) -> str:
    """The draft report of an analysed scan in `fmt` ("md", "json" or "fhir")."""
    from assistant.report import draft_report

    report = draft_report(state.evidence, scan_hash=state.scan_hash)
    if fmt == "md":
        return report.to_markdown()
    if fmt == "json":
        return report.to_json()
    if fmt == "fhir":
        return report.to_fhir_json(state.evidence.by_kind("finding"))
    raise ValueError(f"unknown report format {fmt!r}; choose md, json or fhir")


def run(args: argparse.Namespace) -> int:
    from assistant.scan.load import existing_path

    existing_path(args.scan)  # before the models' modules load (seconds)
    from assistant.config import build_analyzer

    with contextlib.redirect_stdout(sys.stderr):  # stdout: only the report
        analyzer = build_analyzer(settings_of(args))
    state = analyse(args, analyzer)
    text = render(state, args.format)
    if args.out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        logger.info("wrote the %s draft report (%d bytes)", args.format, len(text))
    return 0
