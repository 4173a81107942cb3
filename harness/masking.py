"""Masking for everything a reporter writes: one set of functions for JSON, JUnit, HTML, console.

Reports show the run as it happened (not the cassette's scrubbed copy), so each value under a
secret or PHI key is replaced by ``[REDACTED]`` or ``[PHI]``, wherever it sits: query strings and
URL userinfo, JSON bodies, form bodies, free-text messages. The key rules are the cassettes' own
(:class:`~harness.phi_fields.SensitiveFields`): a field the scrubber pseudonymises is a
field the reports mask.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from harness.json_input import MAX_JSON_NESTING, loads_json
from harness.phi_fields import (
    SensitiveFields,
    free_text_pattern,
    load_phi_fields,
    secret_values_in,
)
from harness.redaction import MASK as SECRET_MASK

PHI_MASK = "[PHI]"
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9._~+/=-]{16,}")

# "key": "value" or "key": 123 in text that is not parseable JSON (cut, or a JSON-ish error page);
# a string cut short by truncation (no closing quote) is matched to the end too.
_JSON_PAIR = re.compile(
    r'"(?P<key>[^"\\]{1,100})"\s*:\s*(?P<value>"(?:[^"\\]|\\.)*(?:"|\Z)|-?\d[\d.eE+-]*|true|false)'
)
# key: 'value' or key: 123, as a script's console.log shows an object.
_INSPECT_PAIR = re.compile(
    r"(?<![\w$\"])(?P<key>[A-Za-z_$][\w$]{0,99}): (?P<value>'(?:[^'\\]|\\.)*(?:'|\Z)|-?\d[\d.eE+-]*)"
)
# key=value in form bodies and query strings.
FORM_PAIR = re.compile(r"(?P<lead>^|[?&;\s])(?P<key>[^=&;\s?]{1,100})=(?P<value>[^&;\s]*)")
# scheme://user:password@host in free text (a connection error quoting its URL).
# Look-behinds and bounded runs keep every search here linear on long text (see EMAIL_SHAPE).
_URL_USERINFO = re.compile(
    r"(?<![\w+.-])(?P<scheme>[a-zA-Z][\w+.-]{0,31}://)(?P<user>[^\s/@:]*):(?P<pw>[^\s/@]+)@"
)
# Patient data recognisable by its shape in free text (an error page, a plain-text body).
_PHI_SHAPES = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"  # e-mail
    r"|(?<![\w.-])\d{3}([-. ])\d{2}\1\d{4}(?![\w-])"  # SSN, any separator
    r"|(?<![\w-])(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?![\w-])"  # phone
    r"|(?<![\w/-])\d{1,2}/\d{1,2}/\d{4}(?![\w/-])"  # US date
)


@functools.cache
def default_fields() -> SensitiveFields:
    """The shipped field list, read once per process."""
    return load_phi_fields()


def mask_url(url: str, fields: SensitiveFields | None = None) -> str:
    """The URL with its userinfo password and the values of secret and PHI parameters masked.

    Plain string work, not ``urlsplit``: a URL whose password was already redacted to
    ``[REDACTED]`` reads as a malformed IPv6 host to the standard library.
    """
    fields = fields or default_fields()
    url = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{SECRET_MASK}@", url, count=1)
    rest, hash_sign, fragment = url.partition("#")
    head, question, query = rest.partition("?")
    if question:
        query = _mask_form(query, fields)
    if "=" in fragment:
        fragment = _mask_form(fragment, fields)
    return head + question + query + hash_sign + fragment


def mask_message(text: str, fields: SensitiveFields | None = None) -> str:
    """Free text (a verdict's message, a check's reason): keyed values, URLs and credentials
    masked."""
    fields = fields or default_fields()
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{SECRET_MASK}@", text)
    for _, value in secret_values_in(text):
        text = text.replace(value, SECRET_MASK)
    return mask_text(text, fields)


KnownPhi = re.Pattern[str] | None  # the exchange's own patient values, from free_text_pattern


def mask_json(
    value: Any, fields: SensitiveFields, parent: str | None = None, known: KnownPhi = None
) -> Any:
    """A copy of ``value`` with every PHI (and secret) field's value replaced, at any depth, and
    strings masked as free text (JSON or form text inside them, known PHI, PHI shapes)."""
    if isinstance(value, dict):
        masked: dict[str, Any] = {}
        for key, item in value.items():
            if _is_secret_member(key, item, fields):
                masked[key] = _mask_all(item, SECRET_MASK)
            elif fields.phi_kind(key, parent) is not None:
                masked[key] = _mask_all(item, PHI_MASK)
            else:
                masked[key] = mask_json(item, fields, key, known)
        return masked
    if isinstance(value, list):
        return [mask_json(item, fields, parent, known) for item in value]
    if isinstance(value, str):
        return mask_text(value, fields, known)
    return value


def _is_secret_member(key: str, value: Any, fields: SensitiveFields) -> bool:
    if fields.is_secret_key(key) or fields.is_secret_header(key):
        return True
    return (
        fields.is_weak_secret_key(key)
        and isinstance(value, str)
        and _TOKEN_LIKE.fullmatch(value) is not None
    )


def known_phi(value: Any, fields: SensitiveFields, found: set[tuple[str, str]]) -> None:
    """Add ``(kind, value)`` for the values under PHI keys in a JSON document to ``found``."""
    _collect_phi(value, fields, None, None, found)


def _collect_phi(
    value: Any,
    fields: SensitiveFields,
    parent: str | None,
    kind: str | None,
    found: set[tuple[str, str]],
) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _collect_phi(item, fields, key, kind or fields.phi_kind(key, parent), found)
    elif isinstance(value, list):
        for item in value:
            _collect_phi(item, fields, parent, kind, found)
    elif kind is not None and isinstance(value, (str, int)) and not isinstance(value, bool):
        found.add((kind, str(value)))


def _mask_all(value: Any, mask: str) -> Any:
    """Mask every leaf but keep the shape (a list of contacts stays a list), null and "" as is."""
    if isinstance(value, dict):
        return {key: _mask_all(item, mask) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_all(item, mask) for item in value]
    if value is None or value == "":
        return value
    return mask


def _mask_secret_shapes(text: str) -> str:
    for _, value in secret_values_in(text):
        text = text.replace(value, SECRET_MASK)
    return text


def mask_text(text: str, fields: SensitiveFields, known: KnownPhi = None) -> str:
    """Mask a body that is not JSON: JSON-like and form-encoded pairs, the ``key: 'value'`` pairs
    of an object a script printed, the ``known`` PHI values
    (as whole words, in any case), and anything shaped like an e-mail, SSN, phone or date."""

    def json_pair(match: re.Match[str]) -> str:
        mask = _mask_for(match["key"], fields, form=False)
        if mask is None:
            return match[0]
        start, end = match.span("value")
        return match[0][: start - match.start()] + f'"{mask}"' + match[0][end - match.start() :]

    text = _JSON_PAIR.sub(json_pair, _mask_secret_shapes(text))
    text = _mask_form(_INSPECT_PAIR.sub(json_pair, text), fields)
    if known is not None:
        text = known.sub(PHI_MASK, text)
    return _PHI_SHAPES.sub(PHI_MASK, text)


def _mask_form(text: str, fields: SensitiveFields) -> str:
    def form_pair(match: re.Match[str]) -> str:
        mask = _mask_for(unquote_plus(match["key"]), fields, form=True)
        if mask is None or not match["value"]:
            return match[0]
        return f"{match['lead']}{match['key']}={mask}"

    return FORM_PAIR.sub(form_pair, text)


def _mask_for(key: str, fields: SensitiveFields, *, form: bool) -> str | None:
    if fields.is_secret_key(key) or (form and fields.is_weak_secret_key(key)):
        return SECRET_MASK
    if fields.phi_kind(key) is not None:
        return PHI_MASK
    return None


def mask_headers(
    headers: Mapping[str, str] | None, fields: SensitiveFields
) -> list[tuple[str, str]] | None:
    """Header pairs; secret headers masked (again: they arrive masked) and URLs in values such
    as Location masked."""
    if headers is None:
        return None
    return [
        (name, SECRET_MASK if fields.is_secret_header(name) else mask_url(value, fields))
        for name, value in headers.items()
    ]


MAX_KNOWN_PHI = 20_000  # patient values remembered for free-text masking (bounded memory)
MAX_PARSED_BODY = 8 * 1024 * 1024  # bigger bodies are masked as text, not parsed


def parse_json_body(text: str) -> Any:
    """A body's JSON object or array, or None (not JSON, too big, or nested deeper than any real
    body: such a body is masked as text, not walked by mask_json)."""
    if len(text) > MAX_PARSED_BODY or text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        return loads_json(text, max_nesting=MAX_JSON_NESTING)
    except ValueError:  # JSONNestingError is one
        return None


class KnownValues:
    """Patient values seen in a run, and the free-text pattern for them (rebuilt on growth), so
    that a plain-text body or an error page quoting a name from an earlier response is masked."""

    def __init__(self) -> None:
        self.values: set[tuple[str, str]] = set()
        self._pattern: KnownPhi = None
        self._size = 0

    def learn(
        self,
        fields: SensitiveFields,
        *,
        request_body: str | None,
        response_body: str | None,
        url: str,
    ) -> None:
        """Add the patient values one exchange carries under PHI keys (JSON bodies, form body,
        query)."""
        if len(self.values) >= MAX_KNOWN_PHI:
            return
        for body in (request_body, response_body):
            data = parse_json_body(body) if body else None
            if data is not None:
                known_phi(data, fields, self.values)
        for text in (request_body or "", url.partition("?")[2]):
            for match in FORM_PAIR.finditer(text):
                kind = fields.phi_kind(unquote_plus(match["key"]))
                if kind is not None and match["value"]:
                    self.values.add((kind, unquote_plus(match["value"])))

    def pattern(self) -> KnownPhi:
        if len(self.values) != self._size and len(self.values) <= MAX_KNOWN_PHI:
            self._pattern, self._size = free_text_pattern(self.values), len(self.values)
        return self._pattern


def mask_body(text: str, fields: SensitiveFields | None = None, known: KnownPhi = None) -> str:
    """A request or response body as a console may show it: a JSON body with its secret and
    PHI fields masked (compact), any other body masked as free text; ``known`` PHI values
    masked wherever they appear."""
    fields = fields or default_fields()
    data = parse_json_body(text)
    if data is None:
        return mask_text(text, fields, known)
    return json.dumps(mask_json(data, fields, known=known), ensure_ascii=False)
