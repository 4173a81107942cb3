"""Atomic text writes for the sandbox's state and environment files.

Product boundary: this is a deliberate small copy of :func:`harness.atomicfile.atomic_write_text`
(temp file beside the target, fsync, ``os.replace``). A sandbox that imported ``harness`` would
not be a product of its own; the harness's writer also sweeps other writers' stale temp files,
which the sandbox (one writer per state file) does not need.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write_text(path: Path, text: str, *, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
