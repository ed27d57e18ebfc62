"""`AppConfig`: how the app is launched, from flags with `ASSISTANT_*` / `GRADIO_*` fallbacks.

Flag                      Environment variable          Default
--host                    GRADIO_SERVER_NAME            127.0.0.1
--port                    GRADIO_SERVER_PORT            7860
--responder               ASSISTANT_RESPONDER           grounded (offline, deterministic)
--model                   ASSISTANT_MODEL               (responder's default)
--quantization            ASSISTANT_QUANTIZATION        none (8bit / 4bit: bitsandbytes)
--detector PATH           ASSISTANT_DETECTOR            the shipped checkpoint
--method / --preset       ASSISTANT_METHOD / _PRESET    the checkpoint's defaults
--level-step MM           ASSISTANT_LEVEL_STEP          2 (whole-brain detector: 4 = every other
                                                        level of a volume, about half the time)
--index PATH              ASSISTANT_INDEX               the default case library
--no-retrieval            ASSISTANT_RETRIEVAL=0         retrieval on
--max-file-size           ASSISTANT_MAX_FILE_SIZE       200mb
--concurrency             ASSISTANT_CONCURRENCY         1 analysis at a time (chat: 2)
--audit-log PATH          ASSISTANT_AUDIT_LOG           none
--upload-retention S      ASSISTANT_UPLOAD_RETENTION    3600 (files served for download, deleted
                                                        after; uploads leave the cache at once)
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assistant.commands.ask import level_step
from assistant.responders.registry import QUANTIZATIONS, RESPONDERS


@dataclass
class AppConfig:
    host: str = "127.0.0.1"  # GRADIO_SERVER_NAME; 0.0.0.0 to serve other machines (Spaces)
    port: int = 7860  # GRADIO_SERVER_PORT
    responder: str | None = None  # None: ASSISTANT_RESPONDER, else "grounded"
    model: str | None = None  # model id / local folder (transformers) or served name (openai)
    quantization: str | None = None  # "none", "8bit", "4bit" (transformers only)
    detector: str | None = None  # checkpoint folder; None: the shipped default
    method: str | None = None  # anomaly method; None: the checkpoint's default
    preset: str | None = None  # speed preset; None: the checkpoint's default
    level_step_mm: float = 2.0  # mm between a volume's levels with a whole-brain detector
    index: str | None = None  # a case library folder; None: the default library
    retrieval: bool = True  # search similar cases and knowledge
    max_file_size: str = "200mb"  # largest upload Gradio accepts
    analysis_concurrency: int = 1  # scans analysed at once (the detector uses every core)
    chat_concurrency: int = 2  # answers streamed at once
    max_queue: int = 64  # waiting events beyond this are refused with "queue full"
    audit_log: str | None = None  # JSONL audit log of answers (no questions, no identifiers)
    # seconds Gradio keeps the files it serves (drafts for download) before deleting them
    upload_retention_s: int = 3600  # ASSISTANT_UPLOAD_RETENTION


def _env_bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def parse_config(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> AppConfig:
    """Parse `argv` (flags win) with `environ` (default `os.environ`) as fallback."""
    env = os.environ if environ is None else environ
    d = AppConfig()
    p = argparse.ArgumentParser(
        prog="app.py", description="Scan assistant chat app (research use only)."
    )
    p.add_argument("--host", default=env.get("GRADIO_SERVER_NAME") or d.host)
    p.add_argument("--port", type=int, default=int(env.get("GRADIO_SERVER_PORT") or d.port))
    p.add_argument(
        "--responder",
        choices=RESPONDERS,
        default=env.get("ASSISTANT_RESPONDER") or None,
        help="who writes the answers (default grounded: offline, deterministic)",
    )
    p.add_argument("--model", default=env.get("ASSISTANT_MODEL") or None, help="model id")
    p.add_argument(
        "--quantization",
        choices=QUANTIZATIONS,
        default=env.get("ASSISTANT_QUANTIZATION") or None,
    )
    p.add_argument("--detector", default=env.get("ASSISTANT_DETECTOR") or None, metavar="PATH")
    p.add_argument("--method", default=env.get("ASSISTANT_METHOD") or None)
    p.add_argument("--preset", default=env.get("ASSISTANT_PRESET") or None)
    p.add_argument(
        "--level-step",
        type=level_step,
        default=env.get("ASSISTANT_LEVEL_STEP") or str(d.level_step_mm),  # checked as a flag
        metavar="MM",
    )
    p.add_argument("--index", default=env.get("ASSISTANT_INDEX") or None, metavar="PATH")
    p.add_argument(
        "--no-retrieval",
        dest="retrieval",
        action="store_false",
        default=_env_bool(env.get("ASSISTANT_RETRIEVAL"), True),
    )
    p.add_argument("--max-file-size", default=env.get("ASSISTANT_MAX_FILE_SIZE") or d.max_file_size)
    p.add_argument(
        "--concurrency",
        type=int,
        default=int(env.get("ASSISTANT_CONCURRENCY") or d.analysis_concurrency),
        help="scans analysed at once",
    )
    p.add_argument("--audit-log", default=env.get("ASSISTANT_AUDIT_LOG") or None, metavar="PATH")
    p.add_argument(
        "--upload-retention",
        type=int,
        default=int(env.get("ASSISTANT_UPLOAD_RETENTION") or d.upload_retention_s),
        metavar="SECONDS",
        help="delete the files the app serves (drafts for download) after this many seconds",
    )
    a = p.parse_args(list(argv) if argv is not None else [])
    if a.concurrency < 1:
        p.error(f"--concurrency must be >= 1, got {a.concurrency}")
    if a.upload_retention < 60:
        p.error(f"--upload-retention must be at least 60 seconds, got {a.upload_retention}")
    return AppConfig(
        host=a.host,
        port=a.port,
        responder=a.responder,
        model=a.model,
        quantization=a.quantization,
        detector=a.detector,
        method=a.method,
        preset=a.preset,
        level_step_mm=a.level_step,
        index=a.index,
        retrieval=a.retrieval,
        max_file_size=a.max_file_size,
        analysis_concurrency=a.concurrency,
        audit_log=a.audit_log,
        upload_retention_s=a.upload_retention,
    )
