"""``harness run --list``: a collection's requests, named as a scenario's ``request:`` names them."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from harness.collection import load_collection
from harness.errors import EXIT_OK, InputError


def list_requests(sources: Sequence[Path], default: Path, out: TextIO | None = None) -> int:
    """Print ``Folder/Request name`` for every request of the one collection named (or
    ``default``), in collection order; nothing is sent."""
    if len(sources) > 1 or any(s.suffix.lower() != ".json" for s in sources):
        raise InputError(
            f"--list lists the requests of one collection; got {', '.join(map(str, sources))}.",
            hint="Run `harness run --list` (the DrChrono collection) or `harness run --list "
            "my.postman_collection.json`.",
        )
    collection = load_collection(sources[0] if sources else default)
    stream = out or sys.stdout
    for request in collection.requests():
        stream.write(f"{request.full_name}\n")
    return EXIT_OK
