"""Scrubbing: secrets become stable placeholders, patient data becomes consistent pseudonyms.

A :class:`Scrubber` is not pure: it reads the PHI field list (``harness/phi_fields.yaml``) unless
given one, draws a random pseudonym salt unless a key is configured, and keeps, behind locks, two
tables (secret value -> placeholder, real value -> pseudonym) and a compiled-pattern cache. The
tables make the same token or patient get the same stand-in across a whole recording session: a
bearer header and the token response that issued it agree, and ids captured from one response
still line up with the next request on replay.

The hooks take and return VCR.py's own shapes (``vcr.request.Request`` and the response dict
``{"status", "headers", "body": {"string"}}``), so they serve both :class:`CassetteTransport`
and pytest-recording's ``vcr_config``.
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from vcr.request import Request

from harness.cassettes.errors import CassetteError
from harness.cassettes.free_text import PatientTextIndex
from harness.cassettes.origins import OriginMap
from harness.cassettes.pseudonyms import PseudonymTable, looks_pseudonymous, relayout_digits
from harness.cassettes.vocabulary import contract_enum_texts
from harness.json_input import JSONNestingError, loads_json
from harness.phi_fields import (
    DIGIT_KINDS,
    EMAIL_SHAPE,
    SSN_SHAPE,
    US_DAY,
    SensitiveFields,
    day_of,
    identifies_a_person,
    is_pseudonymous_ssn,
    is_reserved_email_domain,
    load_phi_fields,
    secret_values_in,
    text_key,
)
from harness.redaction import SecretRegistry

PLACEHOLDER = re.compile(r"<[a-z0-9_-]+:\d+>")
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9._~+/=-]{16,}")
_URL_WITH_PARAMS = re.compile(r"^(https?://|/)\S*[?#]\S*=")
# What the scrubber itself wrote (placeholders, addresses and links on reserved domains such as
# pseudonym.example): the free-text pass matches these first and leaves them whole, so a patient
# value that is also one of their words ("example") cannot break them.
_OWN_MARKERS = (
    r"<[a-z0-9_-]+:\d+>"
    r"|(?<![\w.%+@-])(?:[\w.%+-]{1,64}@|https?://)?(?:[A-Za-z0-9-]+\.)+"
    r"(?:example|test|invalid|localhost)(?![\w-])"
)
# Key environment variable for stable pseudonyms (see Scrubber); random salt when unset.
PSEUDONYM_KEY_VARIABLE = "HARNESS_PSEUDONYM_KEY"
# Shorter secrets are only replaced where they are keyed: "abc" would shred free text.
_MIN_SECRET_TEXT_LENGTH = 6

# Headers that change on every run or that httpx recomputes: dropping them keeps diffs quiet.
VOLATILE_REQUEST_HEADERS = frozenset(
    {"host", "content-length", "user-agent", "accept-encoding", "connection", "traceparent"}
)
VOLATILE_RESPONSE_HEADERS = frozenset(
    {
        "date",
        "server",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "x-request-id",
        "x-runtime",
        "x-amzn-trace-id",
        "x-amzn-requestid",
        "x-amz-cf-id",
        "x-amz-cf-pop",
        "cf-ray",
        "via",
        "age",
        "report-to",
        "nel",
    }
)
_LOADED_MARK = "_harness_loaded"
_URL_HEADERS = frozenset({"location", "content-location"})

_MAX_NESTED_JSON = 1 << 20  # JSON text inside a JSON string is parsed up to this many chars
# Deeper JSON is refused rather than walked (the walk recurses once per level).
MAX_SCRUB_NESTING = 200


def is_placeholder(value: str) -> bool:
    return PLACEHOLDER.fullmatch(value) is not None


def is_json_content(content_type: str) -> bool:
    return "json" in content_type.lower()


def is_form_content(content_type: str) -> bool:
    return "application/x-www-form-urlencoded" in content_type.lower()


def guess_kind(key: str) -> str | None:
    """The pseudonym kind a key's name suggests (inside objects that are PHI as a whole)."""
    key = key.lower()
    for words, kind in (
        (("phone", "fax", "mobile"), "phone"),
        (("email",), "email"),
        (("zip", "postal"), "zip"),
        (("birth", "dob"), "date"),
        (("ssn", "social"), "ssn"),
        (("city",), "city"),
        (("address", "street"), "street"),
        (("name",), "name"),
    ):
        if any(w in key for w in words):
            return kind
    return None


def _is_id_key(key: str) -> bool:
    key = key.lower()
    return key == "id" or key.endswith("_id") or key in {"patient", "doctor", "office"}


def default_salt() -> bytes:
    """The pseudonym key: ``HARNESS_PSEUDONYM_KEY`` when set, else random bytes.

    With the team's key (kept outside the repository, like any credential) the same patient gets
    the same pseudonym on every re-recording, so cassette diffs show real changes only; without
    the key, a pseudonym cannot be linked to its value by anyone who guesses candidate values.
    """
    key = os.environ.get(PSEUDONYM_KEY_VARIABLE, "")
    return key.encode("utf-8") if key else os.urandom(32)


class _Placeholders:
    """Secret value -> ``<label:n>``; the same value always gets the same placeholder."""

    def __init__(self) -> None:
        self._by_value: dict[str, str] = {}
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def get(self, label: str, value: str) -> str:
        with self._lock:
            known = self._by_value.get(value)
            if known is None:
                self._counts[label] += 1
                known = self._by_value[value] = f"<{label}:{self._counts[label]}>"
            return known

    def known(self) -> dict[str, str]:
        with self._lock:
            return dict(self._by_value)


class Scrubber:
    """Replaces secrets and PHI in requests and responses before anything is written.

    One instance per recording session: share it between the transports of concurrent cassettes
    so that pseudonyms agree across them. Thread-safe.

    ``origins`` maps origins as recorded to the origin to write instead, e.g.
    ``{sandbox.base_url: "http://drchrono-sandbox"}``: the sandbox's random port then stays out
    of URIs, headers and bodies, so re-recordings diff cleanly (replay ignores host and port).
    """

    def __init__(
        self,
        secrets: SecretRegistry | None = None,
        phi_fields: SensitiveFields | None = None,
        *,
        salt: bytes | None = None,
        origins: Mapping[str, str] | None = None,
        enum_texts: frozenset[str] | None = None,
    ) -> None:
        self.secrets = secrets if secrets is not None else SecretRegistry()
        self.fields = phi_fields if phi_fields is not None else load_phi_fields()
        self.pseudonyms = PseudonymTable(salt if salt is not None else default_salt())
        self.origins = OriginMap(origins)
        # The contracts' enum values: never rewritten in free text, never learned as a
        # patient's words (see `_learn`).
        self.enum_texts = enum_texts if enum_texts is not None else contract_enum_texts()
        # The patient values the free-text pass looks for: identifying values met under an
        # identifying key (a relation or a status inside a PHI object is pseudonymised in place
        # only), and their pseudonyms by `text_key` (one key for all spellings of a value).
        self._patient_text = PatientTextIndex(_OWN_MARKERS)
        self._patient_values: dict[str, tuple[str, str]] = {}
        self._placeholders = _Placeholders()
        self._secret_pattern_cache: tuple[
            tuple[int, int], tuple[re.Pattern[str] | None, dict[str, str]]
        ] = ((-1, -1), (None, {}))
        self._cache_lock = threading.Lock()

    # VCR.py hooks -----------------------------------------------------------------------------

    def mark_loaded(self, request: Request, response: dict[str, Any]) -> tuple[Request, Any]:
        """``after_load_interaction``: VCR.py runs the record hooks on interactions it loads too;
        what came from disk is scrubbed already and must replay exactly as written."""
        setattr(request, _LOADED_MARK, True)
        return request, {**response, _LOADED_MARK: True}

    def scrub_request(self, request: Request) -> Request:
        """``before_record_request``: a scrubbed copy (VCR also runs it on requests it matches)."""
        if getattr(request, _LOADED_MARK, False):
            return request
        scrubbed = copy.deepcopy(request)
        scrubbed.uri = self.scrub_url(request.uri)
        scrubbed.headers = {
            name: self.scrub_header(name, str(value))
            for name, value in request.headers.items()
            if name.lower() not in VOLATILE_REQUEST_HEADERS
        }
        body = getattr(request, "body_bytes", request.body)
        if isinstance(body, (bytes, str)):
            scrubbed.body = self.scrub_body(body, str(request.headers.get("content-type", "")))
        return scrubbed

    def scrub_response(self, response: dict[str, Any]) -> dict[str, Any]:
        """``before_record_response``: a scrubbed copy of VCR's response dict."""
        if response.get(_LOADED_MARK):
            return {k: v for k, v in response.items() if k != _LOADED_MARK}
        scrubbed = copy.deepcopy(response)
        headers: dict[str, list[str]] = {}
        content_type = ""
        for name, values in (response.get("headers") or {}).items():
            if name.lower() in VOLATILE_RESPONSE_HEADERS:
                continue
            listed = values if isinstance(values, list) else [values]
            headers[name] = [self.scrub_header(name, str(v)) for v in listed]
            if name.lower() == "content-type" and listed:
                content_type = str(listed[0])
        scrubbed["headers"] = headers
        body = scrubbed.get("body")
        if isinstance(body, dict) and isinstance(body.get("string"), (bytes, str)):
            body["string"] = self.scrub_body(body["string"], content_type)
        return scrubbed

    def guard_interaction(self, request: Request, response: dict[str, Any]) -> tuple[Request, Any]:
        """``before_save_interaction``: refuse to save an interaction holding a registered secret."""
        text = "\n".join(
            [
                str(request.uri),
                repr(dict(request.headers)),
                repr(request.body),
                repr(response.get("headers")),
                repr((response.get("body") or {}).get("string")),
            ]
        )
        if self.leaked_secrets(text):
            raise CassetteError(
                f"Refusing to save the interaction for {request.method} "
                f"{urlsplit(str(request.uri)).path}: it still contains a secret value.",
                hint="This is a scrubbing bug; nothing was written. Report which request it was.",
            )
        return request, response

    # Pieces ----------------------------------------------------------------------------------

    def scrub_url(self, url: str) -> str:
        parts = urlsplit(self.origins.rewrite(url))
        netloc = parts.netloc
        if parts.password:
            netloc = netloc.replace(
                f":{parts.password}@", f":{self._placeholder('password', parts.password)}@", 1
            )
        query = self.scrub_pairs(parts.query) if parts.query else parts.query
        fragment = self.scrub_pairs(parts.fragment) if "=" in parts.fragment else parts.fragment
        return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))

    def scrub_pairs(self, text: str) -> str:
        """A query string or form body: only the sensitive values are rewritten."""
        pieces = []
        for piece in text.split("&"):
            raw_key, equals, raw_value = piece.partition("=")
            replacement = None
            if equals:
                replacement = self._scrub_scalar(unquote_plus(raw_key), unquote_plus(raw_value))
            if replacement is None:
                pieces.append(piece)
            else:
                pieces.append(f"{raw_key}={quote(replacement, safe='<>:@/')}")
        return "&".join(pieces)

    def scrub_header(self, name: str, value: str) -> str:
        lower = name.lower()
        if lower in ("authorization", "proxy-authorization"):
            scheme, _, credentials = value.partition(" ")
            if not credentials:
                return value if is_placeholder(value) else self._placeholder("authorization", value)
            if is_placeholder(credentials):
                return value
            label = "basic_credentials" if scheme.lower() == "basic" else "authorization"
            return f"{scheme} {self._placeholder(label, credentials)}"
        if lower == "cookie":
            return "; ".join(self._scrub_cookie(c.strip()) for c in value.split(";"))
        if lower == "set-cookie":
            first, sep, attributes = value.partition(";")
            return self._scrub_cookie(first.strip()) + sep + attributes
        if self.fields.is_secret_header(lower):
            return value if is_placeholder(value) else self._placeholder(lower, value)
        if lower in _URL_HEADERS:
            return self.scrub_text(self.scrub_url(value))
        return self.scrub_text(value)

    def scrub_body(self, body: bytes | str, content_type: str) -> bytes | str:
        was_text = isinstance(body, str)
        try:
            text = body if isinstance(body, str) else body.decode("utf-8")
        except UnicodeDecodeError:
            return body  # binary: nothing structured to scrub
        if not text:
            return body
        scrubbed = self._scrub_text_body(text, content_type)
        return scrubbed if was_text else scrubbed.encode("utf-8")

    def scrub_json(self, document: Any) -> Any:
        """A JSON document with every secret and PHI value replaced, at any nesting."""
        structured = self._scrub_node(document, None)
        return self._map_strings(structured, self.scrub_text, None)

    def scrub_text(self, text: str) -> str:
        """Replace every known secret, every credential recognisable by its shape, and every
        known patient value (as a whole token, in any spelling) wherever it occurs; and recorded
        origins by their canonical ones."""
        text = self.origins.rewrite(text)
        for label, value in secret_values_in(text):
            text = text.replace(value, self._placeholder(label, value))
        text = self._scrub_phi_shapes(text)
        pattern, secrets = self._secret_pattern()
        if pattern is not None:
            text = pattern.sub(
                lambda m: secrets.get(m[0]) or self._placeholder("secret", m[0]), text
            )
        return self._patient_text.sub(text, self._patient_replacement)

    def _scrub_phi_shapes(self, text: str) -> str:
        """SSNs and real e-mail addresses in free text, known or not (the scanner's shapes)."""
        if "@" in text:
            text = EMAIL_SHAPE.sub(
                lambda m: (
                    m[0]
                    if is_reserved_email_domain(m[1])
                    else self._pseudonym("email", m[0], learn=True)
                ),
                text,
            )
        if any(c.isdigit() for c in text):
            text = SSN_SHAPE.sub(
                lambda m: (
                    m[0] if is_pseudonymous_ssn(m[0]) else self._pseudonym("ssn", m[0], learn=True)
                ),
                text,
            )
        return text

    def _patient_replacement(self, match: re.Match[str]) -> str:
        found = match.group(0)
        if match.lastgroup == "own":
            return found
        with self._cache_lock:
            patient = self._patient_values
        for key in (text_key("date", found), text_key("ssn", found), text_key("phone", found)):
            if key in patient:
                kind, fake = patient[key]
                return _respell(kind, fake, found)
        kind, fake = patient.get(text_key("", found), ("", found))
        if fake is found:
            return found
        if found.isupper() and not fake.isupper():
            return fake.upper()
        return fake

    # Secrets the last guard looks for ---------------------------------------------------------

    def is_known_secret(self, value: str) -> bool:
        """Whether ``value`` was registered or met under a secret key during this session."""
        return value in self.secrets or value in self._placeholders.known()

    def leaked_secrets(self, text: str) -> list[str]:
        """Registered secrets present in ``text`` (the caller must never print them)."""
        return self.secrets.find_in(text)

    # Internals -------------------------------------------------------------------------------

    def _scrub_text_body(self, text: str, content_type: str) -> str:
        looks_json = not content_type and text.lstrip()[:1] in ("{", "[")
        if is_json_content(content_type) or looks_json:
            try:
                document = loads_json(text, max_nesting=MAX_SCRUB_NESTING)
            except JSONNestingError:
                # Too deep to walk field by field; the text pass alone could let PHI through.
                raise CassetteError(
                    f"A JSON body nested more than {MAX_SCRUB_NESTING} levels deep cannot be "
                    "scrubbed safely, so it is not recorded.",
                    hint="Record this request without a cassette, or check why the server "
                    "answers such a body.",
                ) from None
            except ValueError:
                return self.scrub_text(text)
            return json.dumps(
                self.scrub_json(document), indent=2, sort_keys=True, ensure_ascii=False
            )
        if is_form_content(content_type):
            return self.scrub_text(self.scrub_pairs(text))
        return self.scrub_text(text)

    def _scrub_scalar(
        self, key: str, value: str, *, parent: str | None = None, in_json: bool = False
    ) -> str | None:
        """The replacement for a keyed value, or None when the key is not sensitive."""
        if not value:
            return None
        lower = key.lower()
        if self.fields.is_secret_key(lower) or (
            self.fields.is_weak_secret_key(lower) and (not in_json or _TOKEN_LIKE.fullmatch(value))
        ):
            return value if is_placeholder(value) else self._placeholder(lower, value)
        kind = self.fields.phi_kind(key, parent)
        if kind is not None:
            return self._pseudonym(kind, value, learn=True)
        return None

    def _scrub_node(self, node: Any, parent: str | None) -> Any:
        if isinstance(node, dict):
            return {k: self._scrub_member(str(k), v, parent) for k, v in node.items()}
        if isinstance(node, list):
            return [self._scrub_node(item, parent) for item in node]
        if isinstance(node, str) and _URL_WITH_PARAMS.match(node):
            return self.scrub_url(node)  # pagination links repeat the (sensitive) query
        if isinstance(node, str) and node[:1] in ("{", "[") and len(node) <= _MAX_NESTED_JSON:
            # JSON inside a string (an echoed request body, a queued job's payload): its keys
            # say what is secret or PHI just as the outer document's do.
            try:
                inner = loads_json(node, max_nesting=MAX_SCRUB_NESTING)
            except ValueError:
                return node
            return json.dumps(self._scrub_node(inner, parent), ensure_ascii=False)
        return node

    def _scrub_member(self, key: str, value: Any, parent: str | None) -> Any:
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if numeric and self.fields.is_secret_key(key):  # a numeric PIN is a secret too
            return self._placeholder(key.lower(), str(value))
        if isinstance(value, str):
            replacement = self._scrub_scalar(key, value, parent=parent, in_json=True)
            return self._scrub_node(value, key) if replacement is None else replacement
        kind = self.fields.phi_kind(key, parent)
        if kind is not None and not self.fields.is_secret_key(key):
            return self._pseudonymise_node(value, kind, key)
        return self._scrub_node(value, key)

    def _pseudonymise_node(self, value: Any, kind: str, key: str, *, learn: bool = True) -> Any:
        """A value under a PHI key: strings, numbers, and whole objects or lists of them.

        Members of an object under a PHI key are pseudonymised whatever their names; those whose
        names say nothing identifying (``relation``, ``status``) are not ``learn``t for free
        text."""
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, str):
            return self._pseudonym(kind, value, learn=learn) if value else value
        if isinstance(value, (int, float)):
            fake = self._pseudonym("identifier", str(value), learn=learn)
            fake = "1" + fake[1:] if fake.startswith("0") else fake
            return type(value)(fake)
        if isinstance(value, list):
            return [self._pseudonymise_node(item, kind, key, learn=learn) for item in value]
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for sub_key, sub_value in value.items():
                sub_key = str(sub_key)
                if self.fields.is_sensitive_key(sub_key) or self.fields.phi_kind(sub_key, key):
                    out[sub_key] = self._scrub_member(sub_key, sub_value, key)
                elif _is_id_key(sub_key):
                    out[sub_key] = sub_value  # ids are not PHI: cross-references must survive
                else:
                    named = guess_kind(sub_key)
                    out[sub_key] = self._pseudonymise_node(
                        sub_value,
                        named or kind,
                        sub_key,
                        learn=learn and named is not None,
                    )
            return out
        return value

    def _pseudonym(self, kind: str, value: str, *, learn: bool) -> str:
        if (
            is_placeholder(value)
            or self.pseudonyms.is_pseudonym(value)
            or looks_pseudonymous(kind, value) is True
        ):
            return value  # already scrubbed (a replayed value sent back): stay idempotent
        fake = self.pseudonyms.pseudonym(kind, value)
        if learn:
            self._learn(kind, value, fake)
        return fake

    def _learn(self, kind: str, real: str, fake: str) -> None:
        """Look for ``real`` in free text too, when it can identify a person and is not one of
        the API's own words (an enum value such as "Mother" in a relation field)."""
        if not identifies_a_person(kind, real) or real in self.enum_texts:
            return
        key_kind = kind if kind in DIGIT_KINDS or kind == "date" else ""
        with self._cache_lock:
            self._patient_values.setdefault(text_key(key_kind, real), (kind, fake))
            if kind == "email":
                local = real.partition("@")[0]
                self._patient_values.setdefault(text_key("", local), (kind, fake.partition("@")[0]))
        self._patient_text.add(kind, real)

    def _placeholder(self, label: str, value: str) -> str:
        return self._placeholders.get(label, value)

    def _scrub_cookie(self, pair: str) -> str:
        name, equals, value = pair.partition("=")
        if not equals or not value or is_placeholder(value):
            return pair
        return f"{name}={self._placeholder('cookie', value)}"

    def _map_strings(self, node: Any, function: Any, key: str | None) -> Any:
        if isinstance(node, dict):
            return {k: self._map_strings(v, function, str(k)) for k, v in node.items()}
        if isinstance(node, list):
            return [self._map_strings(v, function, key) for v in node]
        if isinstance(node, str):
            coded = key is not None and key.lower() in self.fields.coded_keys
            return node if coded or node in self.enum_texts else function(node)
        return node

    def _secret_pattern(self) -> tuple[re.Pattern[str] | None, dict[str, str]]:
        """Known secrets in free text (few: recompiled when one is added), and their
        placeholders."""
        registered = self.secrets.values()
        placeholders = self._placeholders.known()
        version = (len(registered), len(placeholders))
        with self._cache_lock:
            cached_version, cached = self._secret_pattern_cache
            if cached_version == version:
                return cached
        # A registered secret seen for the first time outside a keyed field gets its placeholder
        # when it is found (in `scrub_text`), so that keyed fields keep their telling labels.
        secrets = {v: "" for v in registered}
        secrets.update(
            (real, fake)
            for real, fake in placeholders.items()
            if len(real) >= _MIN_SECRET_TEXT_LENGTH
        )
        ordered = sorted(secrets, key=len, reverse=True)  # a whole secret before its parts
        pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
        with self._cache_lock:
            self._secret_pattern_cache = (version, (pattern, secrets))
        return pattern, secrets


def _respell(kind: str, fake: str, found: str) -> str:
    """The pseudonym ``fake`` written the way the real value was found (digits, date order)."""
    if kind == "date":
        day = day_of(fake[:10])
        if day is not None and US_DAY.fullmatch(found):
            return f"{day[1]}/{day[2]}/{day[0]}"
        return fake[:10]
    return relayout_digits(re.sub(r"\D", "", fake), found)
