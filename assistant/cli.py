"""The `assistant` command.

Each sub-command lives in `assistant/commands/<name>.py` and exposes
`register(subparsers) -> None`, which adds its parser and sets `func` (a callable taking the
parsed `argparse.Namespace` and returning an exit code). Modules are imported lazily so that a
missing optional dependency of one command never breaks the others.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from assistant import DISCLAIMER, __version__

# Order is the order shown in `assistant --help`.
COMMAND_MODULES = [
    "inspect",
    "check",
    "detect",
    "train",
    "calibrate",
    "sample",
    "synthesize",
    "index",
    "ask",
    "report",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Explainable anomaly Q&A assistant for medical scans. " + DISCLAIMER,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"assistant.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"assistant.commands.{name}":
                continue  # command not implemented in this build
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        if not is_user_error(exc):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


def is_user_error(exc: BaseException) -> bool:
    """Whether `exc` says what the user should change (a bad scan or option, a missing file,
    a responder that cannot run: model not downloaded, server unreachable): the CLI prints its
    message as one `error:` line and exits 2 instead of a traceback."""
    if isinstance(exc, (ValueError, FileNotFoundError)):  # ScanError is a ValueError
        return True
    # a ResponderError can only come from its module once imported (not imported here: it
    # loads langchain, seconds for every command)
    llm = sys.modules.get("assistant.responders.llm_common")
    return llm is not None and isinstance(exc, llm.ResponderError)


if __name__ == "__main__":
    sys.exit(main())
