"""Find secrets and patient data that survived in cassette files, line by line.

Works on the text (so it also checks hand-edited or foreign cassettes, even broken ones): values
under secret keys must be placeholders, values under PHI keys must be our pseudonyms, and some
shapes are suspicious anywhere (bearer credentials, JWTs, SSNs, e-mails on real domains).
Findings never carry the full value in their text: only a short masked prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote_plus

from harness.cassettes.errors import CassetteError
from harness.cassettes.fields import SensitiveFields
from harness.cassettes.persister import read_cassette_text
from harness.cassettes.pseudonyms import PSEUDONYM_DOMAIN, looks_pseudonymous
from harness.cassettes.scrub import PLACEHOLDER, is_placeholder

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
_SSN = re.compile(r"(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9._~+/=-]{16,}")
# Reserved for documentation and testing (RFC 2606 / 6761): never a patient's real address.
_FAKE_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "localhost")
_FAKE_EMAIL_TLDS = (".example", ".test", ".invalid", ".localhost")


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


def _fake_email_domain(domain: str) -> bool:
    domain = domain.lower()
    return (
        domain == PSEUDONYM_DOMAIN
        or domain in _FAKE_EMAIL_DOMAINS
        or domain.endswith(_FAKE_EMAIL_TLDS)
        or any(domain.endswith("." + d) for d in _FAKE_EMAIL_DOMAINS)
    )


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
            self.header = name if name in self.fields.secret_headers else None
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
        for match in _SSN.finditer(line):
            if not match.group(1).startswith("9"):
                yield finding("phi", "social security number pattern", match.group(0))
        for match in _EMAIL.finditer(line):
            if not _fake_email_domain(match.group(1)):
                yield finding("phi", "e-mail address on a real domain", match.group(0))

    def _pairs(self, line: str) -> Iterator[tuple[str, str]]:
        for match in _JSON_PAIR.finditer(line):
            yield match.group(1), match.group(2)
        for match in _ESCAPED_JSON_PAIR.finditer(line):
            yield match.group(1), match.group(2)
        for match in _FORM_PAIR.finditer(line):
            yield match.group(1), unquote_plus(match.group(2))

    def _check_pair(self, key: str, value: str) -> Iterator[tuple[str, str, str]]:
        if not value or is_placeholder(value):
            return
        lower = key.lower()
        if lower in self.fields.secret_keys or (
            lower in self.fields.weak_secret_keys and _TOKEN_LIKE.fullmatch(value)
        ):
            yield "secret", f"value under '{key}' is not a placeholder", value
            return
        kind = self.fields.phi_kind(lower.rsplit(".", 1)[-1])
        if kind is not None and looks_pseudonymous(kind, value) is False:
            yield "phi", f"value under '{key}' is not a pseudonym ({kind})", value


def scan_text(text: str, fields: SensitiveFields, source: str) -> list[Finding]:
    scanner = _LineScanner(fields, source)
    findings: list[Finding] = []
    seen: set[tuple[int, str]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        for found in scanner.scan(number, line):
            if (number, found.value) not in seen:
                seen.add((number, found.value))
                findings.append(found)
    return findings


def cassette_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix in CASSETTE_SUFFIXES and p.is_file())
            )
        elif path.is_file():
            files.append(path)
        else:
            raise CassetteError(f"Cannot scan {path}: no such file or folder.")
    return files


def scan_paths(paths: Iterable[Path], fields: SensitiveFields) -> tuple[list[Path], list[Finding]]:
    files = cassette_files(paths)
    findings: list[Finding] = []
    for path in files:
        findings.extend(scan_text(read_cassette_text(path), fields, str(path)))
    return files, findings


def mask_leaks(text: str, fields: SensitiveFields) -> str:
    """``text`` with every value the scanner would flag replaced by its mask (for display)."""
    for found in scan_text(text, fields, "<text>"):
        text = text.replace(found.value, found.masked)
    return text
