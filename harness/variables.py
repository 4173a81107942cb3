"""Variable scopes and ``{{name}}`` resolution, with Newman's precedence.

Scopes, weakest first: globals < collection < environment < data (iteration row) < local
(captured during the run). OS environment variables ``DRCHRONO_<NAME>`` fill the environment scope
(above the environment file, below ``--env-var``) so that secrets never need to be in a file.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import InputError, UnresolvedVariableError
from harness.fake_data import fake

OS_ENV_PREFIX = "DRCHRONO_"
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
# Variables whose values are registered as secrets (masked everywhere) by name.
SECRET_NAME = re.compile(r"secret|token|password|passwd|api_?key|credential|code_verifier", re.I)
_MAX_DEPTH = 10


@functools.lru_cache(maxsize=1024)
def os_env_name(variable: str) -> str:
    """The OS environment variable that supplies ``variable``: ``client_secret`` -> DRCHRONO_CLIENT_SECRET."""
    return OS_ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", variable).upper()


def drchrono_os_environ() -> dict[str, str]:
    """The ``DRCHRONO_*`` OS variables now: a run reads them once, not on every lookup."""
    return {name: value for name, value in os.environ.items() if name.startswith(OS_ENV_PREFIX)}


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


@dataclass
class Scopes:
    """The variable scopes of one run (or one scenario: :meth:`child` copies the mutable ones)."""

    globals: dict[str, str] = field(default_factory=dict)
    collection: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    local: dict[str, str] = field(default_factory=dict)
    # A snapshot taken when the scopes are made (a run's variables do not change under it), so
    # a lookup is a dict read rather than an encode-and-search of os.environ per placeholder.
    os_environ: Mapping[str, str] = field(default_factory=drchrono_os_environ)

    def lookup(self, name: str) -> str | None:
        for scope in (self.local, self.data):
            if name in scope:
                return scope[name]
        if name in self.environment_overrides:
            return self.environment_overrides[name]
        from_os = self.os_environ.get(os_env_name(name))
        if from_os is not None:
            return from_os
        for scope in (self.environment, self.collection, self.globals):
            if name in scope:
                return scope[name]
        return None

    # --env-var values: above OS variables and the environment file, still in the environment scope.
    environment_overrides: dict[str, str] = field(default_factory=dict)

    def child(self) -> Scopes:
        """A copy whose captured (local) values do not leak back into this one."""
        return Scopes(
            globals=self.globals,
            collection=self.collection,
            environment=self.environment,
            data=dict(self.data),
            local=dict(self.local),
            os_environ=self.os_environ,
            environment_overrides=self.environment_overrides,
        )

    def from_os(self, name: str) -> bool:
        """Whether :meth:`lookup` takes ``name``'s value from a ``DRCHRONO_*`` OS variable."""
        if name in self.local or name in self.data or name in self.environment_overrides:
            return False
        return os_env_name(name) in self.os_environ

    def defined(self, name: str) -> bool:
        return name.startswith("$") or self.lookup(name) is not None


class Resolver:
    """Replaces ``{{name}}`` placeholders; unknown names raise :class:`UnresolvedVariableError`,
    except those in ``sent_as_written``, which stay ``{{name}}`` as Newman sends them
    (postman-collection's lib/superstring/index.js leaves a placeholder it has no value for)."""

    def __init__(
        self,
        scopes: Scopes,
        dynamic: Mapping[str, Callable[[], str]] | None = None,
        *,
        sent_as_written: Collection[str] = frozenset(),
    ):
        self.scopes = scopes
        self.dynamic = dynamic if dynamic is not None else DYNAMIC_VARIABLES
        self.sent_as_written = sent_as_written

    def resolve(self, text: str, where: str) -> str:
        if "{{" not in text:
            return text
        for _ in range(_MAX_DEPTH):
            replaced = PLACEHOLDER.sub(lambda m: self._value(m.group(1), m.group(0), where), text)
            if replaced == text or "{{" not in replaced:
                return replaced
            text = replaced
        raise InputError(
            f"Variables in {where} refer to each other in a loop (more than {_MAX_DEPTH} levels).",
            hint="Check the variable definitions for a cycle.",
        )

    def _value(self, name: str, written: str, where: str) -> str:
        if name.startswith("$"):
            make = self.dynamic.get(name)
            # postman-collection's Substitutor leaves a dynamic name it does not know as written
            # (lib/superstring/index.js), and Newman sends it so.
            return written if make is None else make()
        value = self.scopes.lookup(name)
        if value is None:
            if name in self.sent_as_written:
                return written
            raise UnresolvedVariableError(name, where)
        return value

    def resolve_any(self, value: Any, where: str) -> Any:
        """Resolve strings inside nested lists/dicts (auth params, JSON overrides)."""
        if isinstance(value, str):
            return self.resolve(value, where)
        if isinstance(value, list):
            return [self.resolve_any(v, where) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve_any(v, where) for k, v in value.items()}
        return value


def placeholders(text: str) -> list[str]:
    """Names referenced by ``{{...}}`` in ``text`` (dynamic ``$`` names excluded)."""
    return [n for n in PLACEHOLDER.findall(text) if not n.startswith("$")]


# ---------------------------------------------------------------------------------------------
# Dynamic variables (Postman's names). Faker supplies realistic values for the $random* family.


def _fake(method: str) -> Callable[[], str]:
    return lambda: str(fake(method))


DYNAMIC_VARIABLES: dict[str, Callable[[], str]] = {
    "$guid": lambda: str(uuid.uuid4()),
    "$randomUUID": lambda: str(uuid.uuid4()),
    "$timestamp": lambda: str(int(time.time())),
    "$isoTimestamp": lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    "$randomInt": lambda: str(random.randint(0, 1000)),
    "$randomFirstName": _fake("first_name"),
    "$randomLastName": _fake("last_name"),
    "$randomFullName": _fake("name"),
    "$randomEmail": _fake("email"),
    "$randomPhoneNumber": _fake("phone_number"),
    "$randomCity": _fake("city"),
    "$randomStreetAddress": _fake("street_address"),
    "$randomAlphaNumeric": lambda: random.choice("abcdefghijklmnopqrstuvwxyz0123456789"),
    "$randomBoolean": lambda: random.choice(["true", "false"]),
}


# ---------------------------------------------------------------------------------------------
# Postman environment and globals files


def load_scopes(
    collection_variables: Mapping[str, str],
    *,
    environment: Path | None = None,
    globals_file: Path | None = None,
    env_vars: Mapping[str, str] | None = None,
    secret_names: set[str] | None = None,
) -> Scopes:
    """A run's variable scopes from its files (``harness run`` and ``harness auth`` alike);
    names Postman marks secret are added to ``secret_names``."""
    scopes = Scopes(collection=dict(collection_variables))
    if globals_file is not None:
        scopes.globals = load_variable_file(globals_file, what="globals", secret_names=secret_names)
    if environment is not None:
        scopes.environment = load_variable_file(environment, secret_names=secret_names)
    scopes.environment_overrides = dict(env_vars or {})
    return scopes


def load_variable_file(
    path: Path | str, *, what: str = "environment", secret_names: set[str] | None = None
) -> dict[str, str]:
    """Read a Postman environment or globals export into a name -> value mapping; the names
    Postman marks ``"type": "secret"`` are added to ``secret_names`` when given."""
    from harness.json_input import parse_json, read_input_text

    source = Path(path)
    article = "an" if what[:1] in "aeiou" else "a"
    text = read_input_text(
        source,
        what=f"{what} file",
        hint=f"Check the path, or omit the option to run without {article} {what} file.",
    )
    document = parse_json(text, source, what=f"Postman {what}")
    # As Newman reads it (lib/run/options.js extractModel, then postman-collection's
    # VariableScope): an export {"values": [...]}, the same wrapped as the Postman API returns
    # it ({"environment": {...}}), or a bare list of {key, value}.
    if isinstance(document, dict) and isinstance(document.get(what), dict):
        document = document[what]
    values = document if isinstance(document, list) else None
    if isinstance(document, dict):
        values = document.get("values")
    if not isinstance(values, list):
        raise InputError(
            f"{source} is not a Postman {what} file: it has no 'values' list.",
            hint=f"Export the {what} from Postman (Environments > ... > Export).",
        )
    found: dict[str, str] = {}
    for index, entry in enumerate(values):
        if not isinstance(entry, dict) or "key" not in entry:
            raise InputError(
                f"{source}: values[{index}] is not an object with a 'key'.",
                hint=f"Fix the {what} file or re-export it from Postman.",
            )
        # Postman exports write "enabled": false; postman-collection's Variable reads "disabled".
        if entry.get("enabled", True) is False or entry.get("disabled", False) is True:
            continue
        found[str(entry["key"])] = _scalar_text(entry.get("value"))
        if secret_names is not None and entry.get("type") == "secret":
            secret_names.add(str(entry["key"]))
    return found


def load_iteration_data(path: Path | str) -> list[dict[str, str]]:
    """Newman-style iteration data for ``harness run -d``: every value as text."""
    rows = read_data_rows(
        Path(path),
        what="iteration data file",
        hint="Give --iteration-data a CSV file with a header row, or a JSON list of objects.",
    )
    return [{name: _scalar_text(value) for name, value in row.items()} for row in rows]


def read_data_rows(source: Path, *, what: str, hint: str) -> list[dict[str, Any]]:
    """Rows of a data file: CSV with a header row, read as Newman reads it (:func:`csv_rows`),
    or a JSON list of objects (values keep their JSON type). The one reader for ``harness run
    -d`` and scenario ``data:``; more than ``HARNESS_MAX_DATA_ROWS`` rows are refused before
    they are all built."""
    from harness.json_input import (
        DEFAULT_MAX_DATA_ROWS,
        MAX_DATA_ROWS_VARIABLE,
        input_limit,
        parse_json,
        read_input_text,
    )

    text = read_input_text(source, what=what, hint=hint)
    max_rows = input_limit(MAX_DATA_ROWS_VARIABLE, DEFAULT_MAX_DATA_ROWS)
    too_many = InputError(
        f"The {what} {source} has more than {max_rows:,} rows, the limit for one run.",
        hint=f"Split it, or set {MAX_DATA_ROWS_VARIABLE} to a larger number of rows.",
    )
    rows: list[dict[str, Any]] = []
    # Newman reads any -d file as JSON first and as CSV when that fails, whatever its name
    # (lib/run/options.js iterationData). A .json file stays JSON only, so that a broken one
    # is reported as broken JSON rather than read as one odd CSV column.
    if source.suffix.lower() != ".json" and not _is_json(text):
        for row in csv_rows(text, f"The {what} {source}"):
            if len(rows) == max_rows:
                raise too_many
            rows.append(row)
        return rows
    document = parse_json(text, source, what=what)
    if not isinstance(document, list) or not all(isinstance(r, dict) for r in document):
        raise InputError(
            f"{source} is not a list of objects, which is what JSON data files must be.",
            hint='Write it as [{"name": "value"}, ...], one object per iteration.',
        )
    if len(document) > max_rows:
        raise too_many
    return [{str(name): value for name, value in row.items()} for row in document]


def _is_json(text: str) -> bool:
    try:
        return bool(json.loads(text.removeprefix("\ufeff").strip()))  # Newman: truthy JSON
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# CSV data as Newman reads it: csv-parse 4 with newman's lib/run/options.js options (columns,
# escape '"', trim, relax, relax_column_count, bom, and its csvAutoParse cast). Python's csv module
# cannot say whether a cell was quoted, which the cast depends on, hence this small reader.

_CSV_BLANK = " \t\r\n\f"  # csv-parse's trimable characters
_MAX_CSV_CELL = 128 * 1024  # a cell this long is a broken quote, not data
_JS_INT = re.compile(r"[-+]?[1-9][0-9]*")  # newman lib/util.js isInt
_JS_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_JS_FLOAT_PREFIX = re.compile(r"[-+]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)")


def csv_rows(text: str, what: str) -> Iterator[dict[str, Any]]:
    """The rows of CSV ``text`` (a header row first), as Newman's ``-d`` reads them.

    Whitespace around cells is dropped (inside quotes it stays); ``""`` in a quoted cell is a
    quote; a quote inside an unquoted cell is a character. Unquoted numbers become numbers
    (``007`` is 7, ``1.50`` is 1.5; ``true`` stays text). A row with fewer cells leaves the
    other columns undefined, extra cells are dropped, and an empty line is a row whose first
    column is empty (csv-parse's skip_empty_lines is off in Newman).
    """
    records = _csv_records(text.removeprefix("\ufeff"), what)
    header = next(records, None)
    if header is None:
        return
    columns = [str(name) for name, _quoted in header]
    for record in records:
        row: dict[str, Any] = {}
        for name, (cell, quoted) in zip(columns, record, strict=False):
            row[name] = cell if quoted else _newman_csv_cast(cell)
        yield row


def _csv_records(text: str, what: str) -> Iterator[list[tuple[str, bool]]]:
    """Records as (cell, was quoted) pairs; csv-parse's errors as :class:`InputError`."""
    record: list[tuple[str, bool]] = []
    cell: list[str] = []
    quoting = was_quoting = False
    line, index, end = 1, 0, len(text)
    opened = line  # where the last quote opened

    def refuse(problem: str, at: int | None = None) -> InputError:
        return InputError(
            f"{what} is not CSV Newman can read: {problem} on line {at or line}.",
            hint='Quote a cell that holds a comma, a quote or a line break ("a ""b"", c"), '
            "and close every quote.",
        )

    def finish_cell() -> None:
        nonlocal cell, was_quoting
        value = "".join(cell)
        if len(value) > _MAX_CSV_CELL:
            raise refuse(f"a cell is longer than {_MAX_CSV_CELL // 1024} KiB", opened)
        record.append((value if was_quoting else value.rstrip(), was_quoting))
        cell, was_quoting = [], False

    while index < end:
        char = text[index]
        if quoting:
            if char != '"':
                cell.append(char)
                line += char == "\n"
            elif text.startswith('""', index):
                cell.append('"')
                index += 1
            elif index + 1 == end or text[index + 1] in ",\r\n" or text[index + 1] in _CSV_BLANK:
                quoting, was_quoting = False, True
            else:
                raise refuse(f"{text[index + 1]!r} follows a closing quote")
        elif char == '"' and not cell:
            quoting, opened = True, line
        elif char in "\r\n":
            if text.startswith("\r\n", index):
                index += 1
            finish_cell()
            yield record
            record, line = [], line + 1
        elif char == ",":
            finish_cell()
        elif was_quoting:
            if char not in _CSV_BLANK:
                raise refuse(f"{char!r} follows a closing quote")
        elif cell or char not in _CSV_BLANK:
            cell.append(char)
        index += 1
    if quoting:
        raise refuse("the quote that opens a cell is not closed", opened)
    if was_quoting or record or cell:
        finish_cell()
        yield record


def _newman_csv_cast(cell: str) -> str | int | float:
    """newman's csvAutoParse for an unquoted cell: isInt -> parseInt, isFloat -> parseFloat."""
    if _JS_INT.fullmatch(cell):
        number = int(cell)
        return number if abs(number) <= 2**53 else float(number)  # a JavaScript number
    whole = _js_to_number(cell)
    prefix = _JS_FLOAT_PREFIX.match(cell)
    if prefix is None or whole is None:
        return cell
    parsed = float(prefix.group().replace("Infinity", "inf"))
    if not whole - parsed + 1 >= 0:  # newman's isFloat; NaN and Infinity - Infinity fail it
        return cell
    # Whole numbers as int, so that scenario templates write 7 as JavaScript does, not "7.0".
    return int(parsed) if parsed.is_integer() and abs(parsed) <= 2**53 else parsed


def _js_to_number(text: str) -> float | None:
    """JavaScript's Number(text) for the text of a trimmed cell; None for NaN."""
    if text == "":
        return 0.0
    if _JS_DECIMAL.fullmatch(text):
        return float(text)
    if text in ("Infinity", "+Infinity", "-Infinity"):
        return float(text.replace("Infinity", "inf"))
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if text[:2].lower() == prefix:
            try:
                return float(int(text[2:], base))
            except ValueError:
                return None
    return None


def js_number_text(number: float) -> str:
    """A number as JavaScript's String() writes it (ECMAScript Number::toString): 7, 1.5,
    100000000000000000000, 1e+21, 1e-7."""
    from decimal import Decimal

    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    shortest = Decimal(repr(abs(number))).normalize().as_tuple()  # round-trip digits
    digits = "".join(map(str, shortest.digits))
    exponent = shortest.exponent
    assert isinstance(exponent, int)
    count, point = len(digits), exponent + len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    shown = point - 1
    mantissa = digits[0] + ("." + digits[1:] if count > 1 else "")
    return f"{sign}{mantissa}e{'+' if shown >= 0 else '-'}{abs(shown)}"


def _scalar_text(value: Any) -> str:
    """A variable value as Postman substitutes it: text as is, ``true``, numbers as JavaScript
    writes them, compact JSON for objects and lists (postman-collection's
    lib/collection/variable.js toString)."""
    import json

    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) or (
        isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53
    ):
        return js_number_text(float(value))  # JavaScript has one number type: 1.0 is "1"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_assignments(pairs: list[str], *, option: str = "--env-var") -> dict[str, str]:
    """``["a=1", "b=x=y"]`` -> ``{"a": "1", "b": "x=y"}``, with a clear error for ``"a"``."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(
                f"{option} {pair!r} is not of the form NAME=VALUE.",
                hint=f"Write it as {option} name=value.",
            )
        found[name.strip()] = value
    return found
