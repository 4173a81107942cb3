"""Write files so that a crash leaves the old file or the new one, never half of either.

The temporary file is named ``.NAME.PID.RANDOM.tmp`` beside its target. A writer killed before
its rename leaves one behind; the next write of the same file removes those whose process is
gone, so reports, cassettes and state files do not collect stray ``.tmp`` files. (The token store
opts out and cleans its own: such a file may hold a refresh result it can still recover.)
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def atomic_writer(path: Path, *, mode: int = 0o644) -> contextlib.AbstractContextManager[IO[str]]:
    """Yield a text file beside ``path``; on success fsync it and rename it over ``path``."""
    return _atomic_file(path, binary=False, mode=mode)


def atomic_write_text(path: Path, text: str, *, mode: int = 0o644) -> None:
    with atomic_writer(path, mode=mode) as handle:
        handle.write(text)


def atomic_write_bytes(
    path: Path, data: bytes, *, mode: int = 0o600, dir_mode: int = 0o700, remove_stale: bool = True
) -> None:
    """Write ``data`` as :func:`atomic_write_text` does; a missing directory gets ``dir_mode``.

    ``remove_stale=False`` keeps dead writers' temp files, for a caller that may still recover
    one (the token store adopts a complete refresh result whose rename never happened).
    """
    with _atomic_file(
        path, binary=True, mode=mode, dir_mode=dir_mode, remove_stale=remove_stale
    ) as handle:
        handle.write(data)


@contextlib.contextmanager
def _atomic_file(
    path: Path,
    *,
    binary: bool,
    mode: int,
    dir_mode: int = 0o777,
    remove_stale: bool = True,
) -> Iterator[Any]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
    if remove_stale:
        remove_stale_temps(path)
    fd, temp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# Temp files named without a process id (older versions) are removed once they are this old.
_UNOWNED_TEMP_AGE_S = 3600.0


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temp files of ``path`` left by writers that no longer run; return them."""
    removed: list[Path] = []
    prefix = f".{path.name}."
    for name in glob.glob(glob.escape(prefix) + "*.tmp", root_dir=path.parent, include_hidden=True):
        temp = path.parent / name
        owner, dot, _ = name[len(prefix) : -len(".tmp")].partition(".")
        stale = False
        if dot and owner.isdigit():
            stale = not _process_alive(int(owner))
        else:
            with contextlib.suppress(OSError):
                stale = time.time() - temp.stat().st_mtime > _UNOWNED_TEMP_AGE_S
        if stale:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
                removed.append(temp)
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it now
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except (ProcessLookupError, OverflowError):  # gone, or a number no process ever had
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
