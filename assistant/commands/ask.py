"""`assistant ask SCAN "QUESTION"` and `assistant chat SCAN`: questions about a scan.

`ask` streams one answer to stdout (with `--json`: one JSON object with the answer, the cited
evidence ids and the analysis summary). `chat` is an interactive loop on stdin: the scan is
analysed once and every question reuses the analysis; follow-ups ("and how big is it?") use the
conversation so far; `quit`, `exit` or end of input leaves.

`--spacing MM` (or `ROW,COL`) gives a pixel spacing to an image whose file has none (PNG, JPEG,
...): sizes are then in mm² (`assistant.scan.with_spacing`; refused for a scan whose own spacing
differs). Without one, sizes are in pixels of the original image, and the JSON's "sizes" says so.

Nothing printed carries the scan's file name or any DICOM identifier: the output holds only the
de-identified analysis (findings, scores, evidence ids) and the answer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from pathlib import Path

from assistant import DISCLAIMER
from assistant.evidence import Message
from assistant.responders.registry import DEFAULT_RESPONDER, QUANTIZATIONS, RESPONDERS

logger = logging.getLogger(__name__)

QUIT = {"quit", "exit", ":q", "/quit", "/exit"}


def spacing_arg(text: str) -> tuple[float, ...] | None:
    """argparse type of `--spacing`: "0.5", "0.5,0.6" or "3,0.5,0.5" (mm)."""
    from assistant.scan import ScanError, parse_spacing

    try:
        return parse_spacing(text)
    except ScanError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_spacing_arg(p: argparse.ArgumentParser) -> None:
    """`--spacing MM|ROW,COL|SLICE,ROW,COL`: a pixel spacing for scans whose file has none."""
    p.add_argument(
        "--spacing",
        type=spacing_arg,
        default=None,
        metavar="MM|ROW,COL",
        help="pixel spacing in mm for an image without one (PNG, JPEG, ...): one value for "
        "square pixels or ROW,COL (a volume without spacing: SLICE,ROW,COL); sizes are then in "
        "mm². Refused for a scan that carries a different spacing of its own. Without it, such "
        "an image's sizes are in its own pixels",
    )


def add_series_arg(p: argparse.ArgumentParser) -> None:
    """`--series N`: the series to load from a folder or .zip that holds several."""
    p.add_argument(
        "--series",
        type=int,
        default=None,
        metavar="N",
        help="for a folder or .zip of DICOM files that holds several series of one study: load "
        "the series with this Series Number. Without it, the study's pre-contrast T1-weighted "
        "series is chosen from the headers (the note in the output says which and why)",
    )


def load_for_cli(args: argparse.Namespace):
    """The scan named by `args.scan`: of a study's several series, `--series N` or the
    pre-contrast T1 one (`assistant.domain.series`)."""
    from assistant.domain.series import choose_t1_series, series_by_number
    from assistant.scan import load_scan
    from assistant.scan.dicom.series import loaded_series

    number = getattr(args, "series", None)
    chooser = choose_t1_series if number is None else series_by_number(number)
    scan = load_scan(args.scan, choose_series=chooser)
    if number is not None and loaded_series(scan.notes) is None:
        print(f"note: --series {number} is ignored: the input holds one series", file=sys.stderr)
    return scan


def check_before_loading(args: argparse.Namespace) -> None:
    """What can be checked in moments, before any model loads: the scan's path exists (else
    ScanError), and a language model named for `--responder transformers` is on this machine
    (else ValueError, `missing_local_model`)."""
    from assistant.scan.load import existing_path

    existing_path(args.scan)
    problem = missing_local_model(args)
    if problem:
        raise ValueError(problem)


def missing_local_model(args: argparse.Namespace) -> str | None:
    """Why the model named for `--responder transformers` (`--model` or $ASSISTANT_MODEL)
    cannot load: neither a local folder nor in the Hugging Face cache (nothing is downloaded at
    run time); None when it may load, for another responder, or without a named model (the
    default one is checked when it loads)."""
    from assistant.responders.registry import choose_responder

    choice = choose_responder(
        getattr(args, "responder", None),
        getattr(args, "model", None),
        getattr(args, "quantization", None),
    )
    if choice.name != "transformers" or not choice.model:
        return None
    model = choice.model
    path = Path(model).expanduser()
    if path.is_dir():
        return None
    if path.is_absolute() or model.startswith((".", "~")):
        return f"model folder {model!r} does not exist"
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # transformers is missing too: loading it says so
        return None
    try:
        cached = try_to_load_from_cache(model, "config.json")
    except ValueError:  # not a valid hub id (huggingface_hub's HFValidationError)
        cached = None
    if isinstance(cached, str):
        return None
    return (
        f"model {model!r} is not a local folder and is not in the Hugging Face cache (nothing "
        f"is downloaded at run time); download it ahead of time, e.g. `hf download {model}` "
        "(gated models such as google/medgemma-4b-it need `hf auth login` and an accepted "
        "licence), or pass a local folder with config.json, the weights and the processor files"
    )


def series_note(notes: list[str] | None) -> str | None:
    """Of a study's several series: the loader's note naming the one loaded and why each other
    was not ("series 'AX T1' #3 MR (24 files) was loaded of the 2 series in the folder (...):
    ..."), as `assistant check` prints it; None when the input held one series."""
    from assistant.scan.dicom.series import loaded_series

    return next((n for n in notes or [] if loaded_series([n])), None)


def load_with_spacing(args: argparse.Namespace):
    """The scan named by `args.scan` (`load_for_cli`), with the user's `--spacing`
    (`assistant.scan.with_spacing`)."""
    from assistant.scan import with_spacing

    return with_spacing(load_for_cli(args), getattr(args, "spacing", None))


def add_slice_only_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--slice-only",
        action="store_true",
        help="for a volume, analyse only the slice at the trained level (default: also every "
        "level the detector knows, joined into 3D findings)",
    )
    p.add_argument(
        "--level-step",
        type=level_step,
        default=2.0,
        metavar="MM",
        help="with the whole-brain detector, mm between a volume's analysed levels: 2 (every "
        "level, default) or 4 (every other level, about half the time; the slices between are "
        "interpolated and a small lesion can be missed)",
    )


def level_step(text: str) -> float:
    """--level-step: a positive multiple of 2 mm (the levels of the whole-brain detector)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--level-step takes millimetres, got {text!r}") from None
    if value <= 0 or abs(value / 2.0 - round(value / 2.0)) > 1e-6:
        raise argparse.ArgumentTypeError(
            f"--level-step must be a multiple of 2 mm (2, 4, 6 ...), got {text}"
        )
    return value


def add_analysis_args(p: argparse.ArgumentParser) -> None:
    """Arguments shared by `ask`, `chat` and `report`: the scan and how to analyse it."""
    p.add_argument("scan", help="PNG/JPEG/TIFF/BMP, DICOM file, folder or .zip, NIfTI")
    p.add_argument("--slice", type=int, default=None, help="axial slice of a volume")
    add_spacing_arg(p)
    add_series_arg(p)
    p.add_argument(
        "--detector",
        type=Path,
        default=None,
        help="detector checkpoint folder (default: the shipped checkpoint)",
    )
    p.add_argument(
        "--preset",
        default=None,
        help="the detector method's preset (default: the checkpoint's; e.g. faster, a quicker "
        "first look with the whole-brain checkpoint); it needs the checkpoint's calibration "
        "for that preset to give findings",
    )
    p.add_argument(
        "--library",
        type=Path,
        default=None,
        help="case index folder (default: the default library)",
    )
    p.add_argument("--no-detector", action="store_true", help="skip anomaly detection")
    p.add_argument(
        "--anyway",
        action="store_true",
        help="analyse a scan outside the detector's domain anyway (every result is then marked "
        "unreliable)",
    )
    p.add_argument("--no-retrieval", action="store_true", help="skip similar-case retrieval")
    add_slice_only_arg(p)


def add_responder_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--responder",
        choices=RESPONDERS,
        default=None,
        help=f"who writes the answer (default: $ASSISTANT_RESPONDER or {DEFAULT_RESPONDER})",
    )
    p.add_argument("--model", default=None, help="model id or folder (transformers/openai)")
    p.add_argument(
        "--quantization",
        choices=QUANTIZATIONS,
        default=None,
        help="bitsandbytes quantization for --responder transformers",
    )
    p.add_argument("--max-new-tokens", type=int, default=None, help="LLM answer length limit")
    p.add_argument("--audit-log", type=Path, default=None, help="append JSONL audit records here")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ask",
        help="ask one question about a scan",
        description="Analyse a scan and stream a grounded answer to one question. " + DISCLAIMER,
    )
    add_analysis_args(p)
    p.add_argument("question", help='e.g. "Is there an abnormality?"')
    add_responder_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.set_defaults(func=run_ask)

    c = subparsers.add_parser(
        "chat",
        help="interactive questions about a scan",
        description="Analyse a scan once, then answer questions typed on stdin ('quit' to "
        "leave). " + DISCLAIMER,
    )
    add_analysis_args(c)
    add_responder_args(c)
    c.set_defaults(func=run_chat)


def settings_of(args: argparse.Namespace):
    """The `assistant.config.Settings` named by the command-line arguments."""
    from assistant.config import Settings  # the models' modules (torch): only when run

    generation = {}
    if getattr(args, "max_new_tokens", None):
        generation["max_new_tokens"] = args.max_new_tokens
    return Settings(
        detector=args.detector,
        preset=getattr(args, "preset", None),
        use_detector=not args.no_detector,
        library=args.library,
        use_retrieval=not args.no_retrieval,
        whole_volume=not getattr(args, "slice_only", False),
        level_step_mm=getattr(args, "level_step", 2.0),
        responder=getattr(args, "responder", None),
        model=getattr(args, "model", None),
        quantization=getattr(args, "quantization", None),
        generation=generation,
        audit_log=getattr(args, "audit_log", None),
    )


def analyse(args: argparse.Namespace, assistant):
    """Load the scan named by `args.scan` and analyse the requested slice.

    Anything a third-party library prints while loading models goes to stderr, so that stdout
    holds only the answer (or the one JSON object / report).
    """
    from assistant.scan.overlay import blanked_text_note

    with contextlib.redirect_stdout(sys.stderr):
        scan = load_with_spacing(args)
        slice_index = notes_before_analysis(args, scan, assistant)
        state = assistant.analyze(scan, slice_index, anyway=args.anyway)
    if state.applicability is not None and not state.applicability.in_domain:
        verdict = "analysed anyway: results UNRELIABLE" if state.unreliable else "not analysed"
        logger.warning(
            "outside the detector's domain (%s): %s%s",
            verdict,
            " ".join(state.applicability.reasons),
            "" if state.unreliable else " Use --anyway to analyse it regardless.",
        )
    blanked = blanked_text_note(state.scan_summary.get("notes"))
    if blanked:  # the app shows it under the score; here it goes beside the answer
        print(f"note: {blanked}", file=sys.stderr)
    return state


def notes_before_analysis(args: argparse.Namespace, scan, assistant) -> int | None:
    """Say on stderr, before the analysis runs (it may take a while), what it will not do as
    asked: `--slice` of a 2D image is ignored; a preset without thresholds marks no region
    (`missing_thresholds`). Returns the slice index to analyse."""
    from assistant.commands.presets import missing_thresholds

    slice_index = args.slice
    if slice_index is not None and not scan.is_volume:
        print(f"note: --slice {slice_index} is ignored: a 2D image has one slice", file=sys.stderr)
        slice_index = None
    analyzer = getattr(assistant, "analyzer", assistant)  # an Assistant or an Analyzer
    named = getattr(args, "detector", None) or getattr(args, "preset", None)
    if analyzer.use_detector and named:  # the shipped default is calibrated
        missing = missing_thresholds(analyzer.detector)
        if missing:
            print(f"note: {missing}", file=sys.stderr)
    return slice_index


def analysis_summary(state) -> dict:
    """The de-identified analysis for JSON output (no arrays, no file name, no metadata);
    "sizes" says whether the findings' sizes are in mm² or in pixels of the original image."""
    from assistant.scan import size_basis
    from assistant.scan.dicom.series import loaded_series
    from assistant.scan.overlay import blanked_text_note

    d = state.evidence.detector_summary or {}
    return {
        "scan_hash": state.scan_hash,
        "slice_index": state.slice_index,
        # a registered volume's displayed plane: its MNI z (mm); None for a native or 2D slice
        "level_mm": (state.scan_summary.get("registered") or {}).get("level_mm"),
        "scan": {
            **{
                k: state.scan_summary.get(k)
                for k in ("format", "modality", "shape", "spacing_mm", "patient_left")
            },
            # a volume as loaded (the analysed slice above may be resampled on the MNI grid)
            "source_shape": state.scan_summary.get("source_shape"),
            "source_spacing_mm": state.scan_summary.get("source_spacing_mm"),
            # what the loader and the registration changed or noticed ("4D NIfTI ...: the first
            # volume of 2 is used", "reoriented from PSR to RAS+", "registered to MNI ...")
            "notes": list(state.scan_summary.get("notes") or []),
            # of a folder or .zip of several series: the one loaded ("'AX T1' #3 MR (24 files)")
            "series": loaded_series(state.scan_summary.get("notes") or []),
            # a screenshot's burned-in text (identifiers) blanked out before anything read it
            "text_blanked": blanked_text_note(state.scan_summary.get("notes")) or None,
        },
        # the detector setting that made the results (None: no detector result)
        "checkpoint": (d.get("params") or {}).get("checkpoint"),
        "method": d.get("method"),
        "preset": (d.get("params") or {}).get("preset"),
        "score": d.get("score"),
        "score_threshold": d.get("score_threshold"),
        "is_abnormal": d.get("is_abnormal"),
        "applicability": state.evidence.applicability,
        "unreliable": state.unreliable,
        "sizes": size_basis(state.scan_summary),
        "findings": [i.data for i in state.evidence.by_kind("finding")],
        # a volume analysed at every level the detector knows: the levels and its 3D findings
        "volume": None
        if getattr(state, "volume", None) is None
        else {
            **state.scan_summary["volume_analysis"],
            "findings": [i.data for i in state.evidence.by_kind("volume_finding")],
        },
        "evidence": [{"id": i.id, "kind": i.kind, "score": i.score} for i in state.evidence.items],
        "timings": state.timings,
    }


def run_ask(args: argparse.Namespace) -> int:
    check_before_loading(args)  # before the models' modules load (seconds)
    from assistant.chat import Answer
    from assistant.config import build_assistant
    from assistant.scan.dicom.series import loaded_series_sentence

    with contextlib.redirect_stdout(sys.stderr):
        assistant = build_assistant(settings_of(args))
    state = analyse(args, assistant)
    answer = None
    for part in assistant.ask(state, args.question):
        if isinstance(part, Answer):
            answer = part
        elif not args.json:
            sys.stdout.write(part)
            sys.stdout.flush()
    assert answer is not None
    if args.json:
        out = {
            "answer": answer.text,
            "evidence": answer.evidence,
            **{k: v for k, v in answer.to_dict().items() if k not in ("text", "evidence")},
            "analysis": analysis_summary(state),
            "disclaimer": DISCLAIMER,
        }
        print(json.dumps(out, indent=2, ensure_ascii=False, default=_jsonable))
    else:
        sys.stdout.write("\n")
        series = loaded_series_sentence(state.scan_summary.get("notes") or [])
        if series and series not in answer.text:  # of a study: which series was read
            print(series)
        if answer.removed_ids:
            print(
                f"(removed citations of unknown ids: {', '.join(answer.removed_ids)})",
                file=sys.stderr,
            )
    return 0


def run_chat(args: argparse.Namespace, stdin=None, stdout=None) -> int:
    check_before_loading(args)  # before the models' modules load (seconds)
    from assistant.chat import Answer
    from assistant.config import build_assistant
    from assistant.scan.dicom.series import loaded_series_sentence

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        assistant = build_assistant(settings_of(args))
    state = analyse(args, assistant)
    from assistant.scan import size_basis

    n = len(state.evidence.by_kind("finding"))
    sizes = size_basis(state.scan_summary)["note"]
    series = loaded_series_sentence(state.scan_summary.get("notes") or [])
    stdout.write(
        f"Scan analysed: {n} finding(s); {sizes}. {series + ' ' if series else ''}Ask about it; "
        f"'quit' to leave.\n{DISCLAIMER}\n"
    )
    history: list[Message] = []
    while True:
        stdout.write("> ")
        stdout.flush()
        line = stdin.readline()
        if not line:
            stdout.write("\n")
            break
        question = line.strip()
        if not question:
            continue
        if question.lower() in QUIT:
            break
        answer = None
        try:
            for part in assistant.ask(state, question, history):
                if isinstance(part, Answer):
                    answer = part
                else:
                    stdout.write(part)
                    stdout.flush()
        except ValueError as exc:
            stdout.write(f"error: {exc}\n")
            continue
        stdout.write("\n")
        assert answer is not None
        history += [Message("user", question), Message("assistant", answer.text)]
    return 0


def _jsonable(value):
    """JSON fallback for numpy scalars and tuples inside finding dicts."""
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
