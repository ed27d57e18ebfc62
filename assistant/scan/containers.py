"""Containers of scan files, unpacked under `LoadLimits`: gzip streams, folders, .zip archives.

Folders and .zip archives are listed the same way (hidden entries skipped) and checked against
the same file-count and byte limits before anything is read; their files come back as bytes.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from assistant.scan.types import ACCEPTED, SERIES_ACCEPTED, LoadLimits, ScanError


def gunzip(data: bytes, limits: LoadLimits) -> bytes:
    """Decompress gzip `data` (all members), refusing output beyond `limits.max_bytes`."""
    out = io.BytesIO()
    rest = data
    while rest.startswith(b"\x1f\x8b"):
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = rest
        while chunk:
            out.write(d.decompress(chunk, 1 << 22))
            if out.tell() > limits.max_bytes:
                raise ScanError(
                    f"the gzip stream expands beyond {limits.max_bytes:,} bytes "
                    "(decompression bomb guard; a limit whoever runs this tool can raise: LoadLimits.max_bytes)"
                )
            chunk = d.unconsumed_tail
        if not d.eof:
            raise ScanError("the gzip stream is truncated (the file ends early); " + ACCEPTED)
        rest = d.unused_data
    return out.getvalue()


def read_folder(path: Path, limits: LoadLimits) -> list[bytes]:
    """The files under `path` (recursively, sorted; hidden files and folders skipped)."""
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    if not files:
        raise ScanError(f"the folder contains no files; {SERIES_ACCEPTED}")
    check_count(len(files), sum(p.stat().st_size for p in files), limits)
    try:
        return [p.read_bytes() for p in files]
    except OSError as exc:
        raise ScanError(f"a file in the folder cannot be read ({type(exc).__name__})") from None


def read_zip(data: bytes, limits: LoadLimits) -> list[bytes]:
    """The files inside the .zip archive held in `data` (hidden and __MACOSX/ entries skipped)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [
            i
            for i in archive.infolist()
            if not i.is_dir()
            and not i.filename.startswith("__MACOSX/")
            and not Path(i.filename).name.startswith(".")
        ]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ScanError("the .zip archive is corrupt or truncated; " + SERIES_ACCEPTED) from None
    if not infos:
        raise ScanError("the .zip archive is empty; " + SERIES_ACCEPTED)
    if any(i.flag_bits & 0x1 for i in infos):
        raise ScanError("the .zip archive is encrypted; " + SERIES_ACCEPTED)
    check_count(len(infos), sum(i.file_size for i in infos), limits)  # zip-bomb guard
    blobs = []
    for info in infos:
        try:
            with archive.open(info) as fh:
                blob = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError):
            raise ScanError("a member of the .zip archive is corrupt or truncated") from None
        if len(blob) > info.file_size:
            raise ScanError("a .zip member expands beyond its declared size (zip-bomb guard)")
        blobs.append(blob)
    return blobs


def check_count(n_files: int, n_bytes: int, limits: LoadLimits) -> None:
    """ScanError when a folder or archive holds more files or bytes than `limits` allow."""
    if n_files > limits.max_slices:
        raise ScanError(
            f"{n_files} files; at most {limits.max_slices} are accepted (LoadLimits.max_slices)"
        )
    if n_bytes > limits.max_bytes:
        raise ScanError(
            f"{n_bytes:,} bytes in all; at most {limits.max_bytes:,} are accepted "
            "(LoadLimits.max_bytes)"
        )
