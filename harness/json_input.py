"""Files the user names: read their text within a size limit, parse JSON within a nesting limit,
and the one rule for files named *inside* a collection or scenario (:func:`named_input_file`).

Shared by every reader of user input (collection, environments, data rows, scenarios, cassettes,
contracts, reports), so each gets the same limits and the same one-paragraph errors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.errors import InputError

# Real collections, environments and data files are a few MB; reading 200 MB into models takes
# gigabytes. These are the defaults; an environment variable raises each for a run that needs it.
MAX_INPUT_MB_VARIABLE = "HARNESS_MAX_INPUT_MB"
DEFAULT_MAX_INPUT_MB = 50
MAX_DATA_ROWS_VARIABLE = "HARNESS_MAX_DATA_ROWS"
DEFAULT_MAX_DATA_ROWS = 10_000


def input_limit(variable: str, default: int) -> int:
    """The limit set by OS variable ``variable`` (a positive whole number), else ``default``."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(
            f"{variable}={raw!r} is not a positive whole number.",
            hint=f"Set it to a number such as {default}, or unset it for the default.",
        )
    return int(raw)


def read_input_text(source: Path, *, what: str, hint: str) -> str:
    """The text of a file the user named, or one clear :class:`InputError` saying why not.

    UTF-8 (with or without a byte-order mark) or UTF-16 (a byte-order mark, or little-endian
    text without one, as Windows tools write it): Newman reads all of these (lib/util.js
    detectEncoding). At most ``HARNESS_MAX_INPUT_MB`` megabytes are read (also from a device or
    pipe that never ends); a larger file is refused rather than loaded.
    """
    limit_mb = input_limit(MAX_INPUT_MB_VARIABLE, DEFAULT_MAX_INPUT_MB)
    limit = limit_mb * 1024 * 1024
    try:
        with source.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"The {what} {source} does not exist.", hint=hint) from None
    except OSError as exc:
        raise InputError(
            f"Cannot read the {what} {source} ({exc.strerror or exc}).", hint=hint
        ) from None
    if len(data) > limit:
        raise InputError(
            f"The {what} {source} is larger than {limit_mb} MB, the limit for one input file.",
            hint=f"Set {MAX_INPUT_MB_VARIABLE} to a larger number of megabytes if the file "
            "is really meant to be this big.",
        )
    encoding = text_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding == "utf-8-sig" else "UTF-16"
        raise InputError(
            f"The {what} {source} is not {name} text (byte {exc.start} cannot be decoded).",
            hint="Save it as UTF-8.",
        ) from None
    return text


def text_encoding(data: bytes) -> str:
    """The codec for a user's file: ``utf-16`` for a UTF-16 byte-order mark, ``utf-16-le`` for
    text whose every other byte of the start is NUL (UTF-16 LE without a mark), else
    ``utf-8-sig`` (UTF-8, a mark dropped)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    start = data[:64]
    if len(start) >= 2 and len(start) % 2 == 0 and not any(start[1::2]) and all(start[::2]):
        return "utf-16-le"
    return "utf-8-sig"


def named_input_file(
    name: str,
    *,
    base: Path,
    roots: Mapping[str, Path],
    allow_outside: bool,
    refusal: str,
    hint: str,
) -> Path:
    """The file that ``name``, written *inside* a collection or scenario, refers to.

    One rule for every such file (uploads, scenario data): a relative ``name`` is taken from
    ``base``, and the result, with ``..`` and symbolic links resolved, must lie inside one of
    ``roots`` (described by their keys, e.g. "the working directory") unless the user allowed
    otherwise, so that a file someone else wrote cannot make the harness read and send
    ``~/.ssh/id_rsa``. Files named on the command line are the user's own choice and do not come
    through here. ``refusal`` starts the error message.
    """
    if "\0" in name:
        raise InputError(f"{refusal} {name[:200]!r}, a file name with a NUL byte in it.", hint=hint)
    path = (base / name).resolve()
    if allow_outside or any(path.is_relative_to(root.resolve()) for root in roots.values()):
        return path
    places = " and ".join(f"{what} {root}" for what, root in roots.items())
    raise InputError(f"{refusal} {name!r}, which is outside {places}.", hint=hint)


# Deeper than any real collection, environment or data file, and shallow enough that the
# recursive code reading the document (folders, variable values, schemas) stays far from Python's
# recursion limit.
MAX_JSON_NESTING = 200


class JSONNestingError(ValueError):
    """The JSON text nests arrays and objects too deeply to be read safely."""


def loads_json(text: str | bytes, *, max_nesting: int | None = None) -> Any:
    """``json.loads``, except that input nested too deeply raises :class:`JSONNestingError`.

    The C parser recurses once per level and raises RecursionError (not ValueError) on a deep
    document, so callers that catch ValueError for malformed JSON would let it through. With
    ``max_nesting``, a document that parses but nests deeper than that is refused as well.
    """
    try:
        document = json.loads(text)
    except RecursionError:
        raise JSONNestingError("arrays and objects are nested too deeply") from None
    if max_nesting is not None and nesting_exceeds(document, max_nesting):
        raise JSONNestingError(f"arrays and objects are nested more than {max_nesting} deep")
    return document


def nesting_exceeds(document: Any, limit: int) -> bool:
    """Whether lists and dicts in ``document`` nest deeper than ``limit`` (without recursing)."""
    stack: list[tuple[Any, int]] = [(document, 1)] if isinstance(document, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def parse_json(text: str, source: Path, *, what: str, remake: str | None = None) -> Any:
    """The JSON document in ``text`` (read from ``source``), or :class:`InputError`.

    ``remake`` says how to get the file again (default: re-export it from Postman)."""
    try:
        return loads_json(text, max_nesting=MAX_JSON_NESTING)
    except json.JSONDecodeError as exc:
        again = remake or f"Re-export the {what} from Postman"
        raise InputError(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).",
            hint=f"{again} or fix the file at that position.",
        ) from None
    except JSONNestingError as exc:
        raise InputError(
            f"{source} cannot be read: its {exc} (the limit is {MAX_JSON_NESTING} levels).",
            hint=f"Check that it is the {what} you meant; a real one is never nested this deep.",
        ) from None
