"""Find secrets and patient data that survived in cassette files.

Every file of the tree is read (``.yaml``, ``.json``, ``_environment.json``, anything). Each is
checked twice: line by line on its text (so hand-edited, foreign or broken files are checked
too), and, when it parses as YAML or JSON, value by value on what the file *means*: VCR.py's
folded double-quoted strings joined, ``\\u`` escapes decoded, ``!!binary`` and base64 bodies
decoded (and gunzipped). Values under secret keys must be placeholders, values under PHI keys must
be our pseudonyms, and some shapes are suspicious anywhere (bearer credentials, JWTs, private and
cloud keys, SSNs, e-mails on real domains). The key rules are the scrubber's own
(:class:`~harness.phi_fields.SensitiveFields`). Findings never carry the full value in
their text: only a short masked prefix.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote_plus

import yaml

from harness.cassettes.errors import CassetteError
from harness.cassettes.pseudonyms import looks_pseudonymous
from harness.cassettes.scrub import PLACEHOLDER, is_placeholder
from harness.phi_fields import (
    EMAIL_SHAPE,
    SSN_SHAPE,
    SensitiveFields,
    is_pseudonymous_ssn,
    is_reserved_email_domain,
    secret_values_in,
)

CASSETTE_SUFFIXES = (".yaml", ".yml")
_JSON_PAIR = re.compile(r'"([A-Za-z_][\w.-]*)"\s*:\s*"((?:[^"\\]|\\.)*)"')
_ESCAPED_JSON_PAIR = re.compile(r'\\"([A-Za-z_][\w.-]*)\\"\s*:\s*\\"(.*?)\\"')
_FORM_PAIR = re.compile(r"(?:^|[?&#\s'\"])([A-Za-z_][\w.-]*)=([^&\s#\"']*)")
_YAML_KEY_ONLY = re.compile(r"^\s*-?\s*([A-Za-z][\w-]*):\s*$")
_YAML_LIST_ITEM = re.compile(r"^\s*-\s+(.*)$")
# Credentials are long; a short word after "token" is prose ("the access token has expired").
_CREDENTIALS = re.compile(r"\b(Bearer|Basic|Token)\s+([^\s\"'<,\\][^\s\"',\\]{7,})", re.IGNORECASE)
_AUTH_PARAM = re.compile(r"^[A-Za-z_-]+=(\"|$)")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# 123-45-6789, 123 45 6789, 123.45.6789 (one separator throughout). Area 000 marks a pseudonym.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9._~+/=-]{16,}")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# A body string of base64 only (VCR.py writes undecodable bodies so, and some servers send it).
_BASE64 = re.compile(r"[A-Za-z0-9+/\s]{24,}={0,2}")
# The cassette's own envelope (VCR.py's keys): "message: OK" is a status line, not a PHI field.
_VCR_KEYS = frozenset(
    {"message", "code", "status", "method", "uri", "string", "body", "headers", "encoding"}
)
_MAX_DECODED = 16 * 1024 * 1024  # a decoded body larger than this is not scanned further


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    category: str  # "secret" or "phi"
    what: str
    value: str = field(repr=False)  # never printed: use `masked`

    @property
    def masked(self) -> str:
        return mask(self.value)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.category}: {self.what} ({self.masked})"


def mask(value: str) -> str:
    """A prefix short enough to say nothing: at most a quarter of the value, never over 4 chars."""
    shown = max(1, min(4, len(value) // 4))
    return f"{value[:shown]}… ({len(value)} chars)"


class _LineScanner:
    def __init__(self, fields: SensitiveFields, source: str) -> None:
        self.fields = fields
        self.source = source
        self.header: str | None = None  # the secret header whose list items follow

    def scan(self, number: int, line: str) -> Iterator[Finding]:
        def finding(category: str, what: str, value: str) -> Finding:
            return Finding(self.source, number, category, what, value)

        key_only = _YAML_KEY_ONLY.match(line)
        item = _YAML_LIST_ITEM.match(line)
        if key_only:
            name = key_only.group(1).lower()
            self.header = name if self.fields.is_secret_header(name) else None
        elif item and self.header is not None:
            value = item.group(1).strip().strip("'\"")
            if self.header in ("cookie", "set-cookie"):
                for pair in (
                    value.split(";")[:1] if self.header == "set-cookie" else value.split(";")
                ):
                    _, _, cookie = pair.strip().partition("=")
                    if cookie and not is_placeholder(cookie):
                        yield finding(
                            "secret", f"{self.header} header value is not a placeholder", cookie
                        )
            elif not PLACEHOLDER.search(value) and not _CREDENTIALS.search(value):
                yield finding("secret", f"{self.header} header is not a placeholder", value)
        elif not item:
            self.header = None

        for match in _CREDENTIALS.finditer(line):
            if _AUTH_PARAM.match(match.group(2)):
                continue  # a challenge (WWW-Authenticate: Bearer realm="api"), not credentials
            yield finding("secret", f"{match.group(1)} credentials", match.group(2))
        for match in _JWT.finditer(line):
            yield finding("secret", "JWT-like token", match.group(0))
        for key, value in self._pairs(line):
            yield from (finding(c, w, v) for c, w, v in self._check_pair(key, value))
        for label, value in secret_values_in(line):
            yield finding("secret", f"{label.replace('_', ' ')} in clear", value)
        for match in SSN_SHAPE.finditer(line):
            if not is_pseudonymous_ssn(match.group(0)):
                yield finding("phi", "social security number pattern", match.group(0))
        for match in EMAIL_SHAPE.finditer(line):
            if not is_reserved_email_domain(match.group(1)):
                yield finding("phi", "e-mail address on a real domain", match.group(0))

    def _pairs(self, line: str) -> Iterator[tuple[str, str]]:
        for match in _JSON_PAIR.finditer(line):
            yield match.group(1), _json_unescape(match.group(2))
        for match in _ESCAPED_JSON_PAIR.finditer(line):
            yield match.group(1), _json_unescape(match.group(2))
        for match in _FORM_PAIR.finditer(line):
            yield match.group(1), unquote_plus(match.group(2))

    def _check_pair(self, key: str, value: str) -> Iterator[tuple[str, str, str]]:
        if not value or is_placeholder(value):
            return
        lower = key.lower()
        if self.fields.is_secret_key(lower) or (
            self.fields.is_weak_secret_key(lower) and _TOKEN_LIKE.fullmatch(value)
        ):
            if not PLACEHOLDER.search(value) or _CREDENTIALS.search(value):
                yield "secret", f"value under '{key}' is not a placeholder", value
            return
        kind = self.fields.phi_kind(key.rsplit(".", 1)[-1])
        if kind is not None and looks_pseudonymous(kind, value) is False:
            yield "phi", f"value under '{key}' is not a pseudonym ({kind})", value


def scan_text(text: str, fields: SensitiveFields, source: str) -> list[Finding]:
    """Findings in ``text``: line by line, then value by value when it parses as YAML/JSON."""
    findings: list[Finding] = []
    seen: set[str] = set()

    def add(found: Iterable[Finding]) -> None:
        for one in found:
            if one.value not in seen:
                seen.add(one.value)
                findings.append(one)

    add(_scan_lines(text, fields, source, first_line=1))
    add(_scan_structure(text, fields, source))
    return sorted(findings, key=lambda f: f.line)


def _scan_lines(
    text: str, fields: SensitiveFields, source: str, *, first_line: int
) -> list[Finding]:
    scanner = _LineScanner(fields, source)
    findings: list[Finding] = []
    seen: set[tuple[int, str]] = set()
    for number, line in enumerate(text.splitlines(), start=first_line):
        for found in scanner.scan(number, line):
            if (number, found.value) not in seen:
                seen.add((number, found.value))
                findings.append(found)
    return findings


def _scan_structure(text: str, fields: SensitiveFields, source: str) -> Iterator[Finding]:
    """Scalars as the file means them (folded lines joined, escapes and !!binary decoded)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, ValueError, RecursionError):
        return
    if root is None:
        return
    checker = _LineScanner(fields, source)
    stack: list[tuple[yaml.Node, str | None]] = [(root, None)]
    while stack:
        node, key = stack.pop()
        if isinstance(node, yaml.MappingNode):
            pairs = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
            yield from _postman_variable(pairs, checker, source)
            stack.extend((v, str(k.value)) for k, v in pairs)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, key) for item in node.value)
        elif isinstance(node, yaml.ScalarNode):
            line = node.start_mark.line + 1
            for value in _decoded_forms(node):
                if key is not None and "\n" not in value:
                    for category, what, bad in _check_keyed(checker, key, value):
                        yield Finding(source, line, category, what, bad)
                yield from _scan_lines(value, fields, source, first_line=line)


def _check_keyed(checker: _LineScanner, key: str, value: str) -> Iterator[tuple[str, str, str]]:
    if checker.fields.is_secret_header(key) and not checker.fields.is_secret_key(key):
        if value and not PLACEHOLDER.search(value) and not _CREDENTIALS.search(value):
            yield "secret", f"{key.lower()} header is not a placeholder", value
        return
    if key.lower() not in _VCR_KEYS:
        yield from checker._check_pair(key, value)


def _postman_variable(
    pairs: list[tuple[yaml.ScalarNode, yaml.Node]], checker: _LineScanner, source: str
) -> Iterator[Finding]:
    """A Postman variable ``{"key": NAME, "value": V, "type": "secret"}``: V is keyed by NAME."""
    fields_of = {str(k.value): v for k, v in pairs}
    name, value = fields_of.get("key"), fields_of.get("value")
    if not isinstance(name, yaml.ScalarNode) or not isinstance(value, yaml.ScalarNode):
        return
    text, line = str(value.value), value.start_mark.line + 1
    kind = fields_of.get("type")
    if (
        isinstance(kind, yaml.ScalarNode)
        and kind.value == "secret"
        and text
        and not is_placeholder(text)
    ):
        yield Finding(source, line, "secret", f"secret variable '{name.value}' in clear", text)
        return
    for category, what, bad in checker._check_pair(str(name.value), text):
        yield Finding(source, line, category, what, bad)


def _decoded_forms(node: yaml.ScalarNode) -> list[str]:
    """The scalar's text, plus what it hides: base64 (and gzip) decoded, ``\\u`` unescaped."""
    value = str(node.value)
    forms = [value]
    if node.tag == "tag:yaml.org,2002:binary" or (
        len(value) >= 24 and _BASE64.fullmatch(value) and not value.isalnum()
    ):
        decoded = _decode_body(value)
        if decoded is not None:
            forms.append(decoded)
    elif len(value) >= 32 and _BASE64.fullmatch(value):
        decoded = _decode_body(value)
        if decoded is not None and decoded.isprintable():
            forms.append(decoded)
    for form in list(forms):
        if "\\u" in form:
            forms.append(_UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), form))
    return forms


def _decode_body(text: str) -> str | None:
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return _bytes_text(raw, strict=True)


def _bytes_text(raw: bytes, *, strict: bool) -> str | None:
    """Bytes as text: gunzipped or inflated first when compressed."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)[:_MAX_DECODED]
        except (OSError, EOFError, zlib.error):
            return None
    elif raw[:1] == b"\x78":
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw)[:_MAX_DECODED]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None if strict else raw.decode("utf-8", "replace")


def _json_unescape(value: str) -> str:
    if "\\" not in value:
        return value
    try:
        decoded = json.loads(f'"{value}"')
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value


def cassette_files(paths: Iterable[Path]) -> list[Path]:
    """The cassettes (``.yaml``/``.yml``) under ``paths``, for the commands that load them."""
    return _files(paths, lambda p: p.suffix.lower() in CASSETTE_SUFFIXES)


def _files(paths: Iterable[Path], wanted: Callable[[Path], bool]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and wanted(p)))
        elif path.is_file():
            files.append(path)
        else:
            raise CassetteError(f"Cannot scan {path}: no such file or folder.")
    return files


def read_any_text(path: Path) -> str:
    """A file's text whatever it is: gunzipped when compressed, undecodable bytes replaced."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CassetteError(f"Cannot read {path}: {err.strerror}.") from None
    return _bytes_text(raw, strict=False) or raw.decode("utf-8", "replace")


def scan_paths(paths: Iterable[Path], fields: SensitiveFields) -> tuple[list[Path], list[Finding]]:
    """Scan every file under ``paths``: not only cassettes, since a secret in ``_environment.json``
    or a stray export beside them is committed just the same."""
    files = _files(paths, lambda p: True)
    findings: list[Finding] = []
    for path in files:
        findings.extend(scan_text(read_any_text(path), fields, str(path)))
    return files, findings


def mask_leaks(text: str, fields: SensitiveFields) -> str:
    """``text`` with every value the scanner would flag replaced by its mask (for display)."""
    for found in scan_text(text, fields, "<text>"):
        text = text.replace(found.value, found.masked)
    return text
