"""Which keys are secret and which are patient data: loaded from ``phi_fields.yaml`` (data, not code).

This is the one rule set: the scrubber (what is replaced before a cassette is written), the scanner
(what ``harness cassettes scan`` flags), the reporters' masking and the recorded environment all ask
a :class:`SensitiveFields`. The listed names come from the YAML file; on top of them, name rules
catch the spellings users invent (``X-Auth-Token``, ``otp_secret``, ``birth_date``) and value
rules catch credentials whatever their key (private keys, cloud API keys).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError

DEFAULT_FIELDS_FILE = Path(__file__).with_name("phi_fields.yaml")

KINDS = frozenset(
    {
        "given_name",
        "family_name",
        "name",
        "date",
        "ssn",
        "phone",
        "email",
        "street",
        "city",
        "zip",
        "company",
        "identifier",
        "text",
        "url",
    }
)


# Key names are compared with case, "-", "_", "." and spaces removed: "X-Auth-Token" -> "xauthtoken".
_NORMALISE = re.compile(r"[\s_.-]+")
# A key whose normalised name contains one of these holds a credential...
_SECRET_NAME_PARTS = (
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "apikey",
    "accesskey",
    "privatekey",
    "clientkey",
    "signingkey",
    "sessionid",
    "sessionkey",
    "credential",
    "otp",
)
# ...or is exactly one of these short names (as substrings they would hit "keyboard", "design").
_SECRET_NAMES = frozenset({"sig", "signature", "pin", "pwd", "pass", "session", "auth"})
# Names that contain a secret word but hold no secret: the token's type, lifetime or endpoint.
_NOT_SECRET_SUFFIXES = ("type", "expiresin", "expires", "expiry", "url", "uri", "name", "count")
# Header names holding credentials (beyond the listed ones): any "auth" but the server's challenge.
_NOT_SECRET_HEADERS = frozenset({"www-authenticate", "authentication-info"})
# PHI under names the list does not spell out: (words any of which, kind). Words are the key's
# parts split at "_", "-", "." and camelCase humps; keys ending in a non-PHI word are skipped.
_PHI_WORDS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"dob", "birthdate", "birthday", "dateofbirth"}), "date"),
    (frozenset({"ssn", "socialsecurity", "socialsecuritynumber", "itin"}), "ssn"),
    (frozenset({"phone", "mobile", "cell", "fax", "telephone", "tel"}), "phone"),
    (frozenset({"email", "mail"}), "email"),
    (frozenset({"zip", "zipcode", "postal", "postalcode", "postcode"}), "zip"),
    (frozenset({"mrn", "medicalrecordnumber"}), "identifier"),
)
_NOT_PHI_LAST_WORDS = frozenset(
    {"id", "type", "verified", "count", "status", "enabled", "format", "url", "uri", "ok"}
)
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Credentials recognisable by their value alone, wherever they are.
SECRET_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private_key",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"
            r"(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|[A-Za-z0-9+/=\s\\n]*)"
        ),
    ),
    ("aws_key", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")),
    ("google_key", re.compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])")),
)


# Patient data recognisable by its shape alone, wherever it is (the scrubber pseudonymises it in
# free text; the scanner flags it). An SSN with one separator throughout: 123-45-6789,
# 123 45 6789, 123.45.6789. An e-mail address, real unless on a reserved domain.
SSN_SHAPE = re.compile(r"(?<![\w.-])(\d{3})([-. ])(\d{2})\2(\d{4})(?![\w-]|\.\d)")
# The look-behind and the bounded local part keep a search linear: without them a long run of
# letters with no "@" (a base64 body, a 200 KB URL) is retried from every position (quadratic).
EMAIL_SHAPE = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
)
# Reserved for documentation and testing (RFC 2606 / 6761), or our pseudonyms' own domain.
_RESERVED_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "localhost")
_RESERVED_EMAIL_TLDS = (".example", ".test", ".invalid", ".localhost")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def is_reserved_email_domain(domain: str) -> bool:
    """A domain no patient's address can be on (``pseudonym.example``, ``example.com``...); an IP
    address too: ``user@127.0.0.1`` is URL userinfo, not an e-mail."""
    domain = domain.lower()
    return (
        domain in _RESERVED_EMAIL_DOMAINS
        or domain.endswith(_RESERVED_EMAIL_TLDS)
        or any(domain.endswith("." + d) for d in _RESERVED_EMAIL_DOMAINS)
        or _IP_ADDRESS.fullmatch(domain) is not None
    )


def is_pseudonymous_ssn(text: str) -> bool:
    return text[:3] == "000"


def normalised_name(key: str) -> str:
    return _NORMALISE.sub("", key.lower())


def secret_by_name(key: str) -> bool:
    """Whether a key's name alone says it holds a credential (``passwd``, ``X-Auth-Token``)."""
    name = normalised_name(key)
    if name in _SECRET_NAMES:
        return True
    if name.endswith(_NOT_SECRET_SUFFIXES):
        return False
    if name.endswith(("pass", "pwd", "pw")):  # dbpass, adminpwd, smtp_pw
        return True
    return any(part in name for part in _SECRET_NAME_PARTS)


def phi_kind_by_name(key: str) -> str | None:
    """The pseudonym kind a key's words suggest (``birth_date``, ``mobile``, ``postalCode``)."""
    words = [w.lower() for w in _WORDS.findall(key)]
    if not words or words[-1] in _NOT_PHI_LAST_WORDS:
        return None
    joined = "".join(words)
    if joined in ("patientname", "fullname", "patientfullname", "legalname"):
        return "name"
    if "street" in words or joined.endswith(("streetaddress", "homeaddress", "mailingaddress")):
        return "street"
    for names, kind in _PHI_WORDS:
        if joined in names or any(w in names for w in words):
            return kind
    if "birth" in words and "date" in words:
        return "date"
    return None


def secret_values_in(text: str) -> list[tuple[str, str]]:
    """``(label, value)`` for every credential recognisable by its shape in ``text``."""
    return [(label, m.group(0)) for label, p in SECRET_VALUE_PATTERNS for m in p.finditer(text)]


@dataclass(frozen=True)
class SensitiveFields:
    """Lower-cased key names: secrets get placeholders, PHI gets pseudonyms of ``phi[key]`` kind."""

    secret_keys: frozenset[str]
    weak_secret_keys: frozenset[str]
    secret_headers: frozenset[str]
    phi: dict[str, str]
    # Keys whose values are codes from a fixed list (race, status...): never rewritten by the
    # free-text pass, which would otherwise turn "black" into a pseudonym when a name is "Black".
    coded_keys: frozenset[str] = frozenset()

    def phi_kind(self, key: str, parent: str | None = None) -> str | None:
        original, key = key, key.lower()
        if parent is not None:
            nested = self.phi.get(f"{parent.lower()}.{key}")
            if nested is not None:
                return nested
        listed = self.phi.get(key)
        if listed is not None or key in self.coded_keys:
            return listed
        return phi_kind_by_name(original)

    def is_secret_key(self, key: str) -> bool:
        lower = key.lower()
        if lower in self.secret_keys:
            return True
        return lower not in self.weak_secret_keys and secret_by_name(lower)

    def is_weak_secret_key(self, key: str) -> bool:
        return key.lower() in self.weak_secret_keys

    def is_secret_header(self, name: str) -> bool:
        lower = name.lower()
        if lower in self.secret_headers:
            return True
        if lower in _NOT_SECRET_HEADERS:
            return False
        name = normalised_name(lower)
        authorising = "auth" in name and ("author" not in name or "authoriz" in name)
        return secret_by_name(lower) or authorising

    def is_sensitive_key(self, key: str) -> bool:
        """Secret or PHI: a key whose value may never be shown or compared verbatim."""
        return (
            self.is_secret_key(key)
            or self.is_weak_secret_key(key)
            or self.phi_kind(key) is not None
        )


def load_phi_fields(path: Path | None = None) -> SensitiveFields:
    """Read the field list; a malformed file raises :class:`InputError` naming it."""
    path = path or DEFAULT_FIELDS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(f"Cannot read the PHI field list {path}: {err.strerror}.") from None
    except yaml.YAMLError as err:
        raise InputError(f"The PHI field list {path} is not valid YAML: {err}.") from None
    return parse_fields(data, source=str(path))


def parse_fields(data: Any, *, source: str) -> SensitiveFields:
    if not isinstance(data, dict):
        raise InputError(f"The PHI field list {source} must be a mapping with a 'phi' section.")
    phi = data.get("phi") or {}
    if not isinstance(phi, dict):
        raise InputError(f"'phi' in {source} must map field names to pseudonym kinds.")
    for key, kind in phi.items():
        if kind not in KINDS:
            raise InputError(
                f"Field '{key}' in {source} has unknown pseudonym kind {kind!r}.",
                hint=f"Use one of: {', '.join(sorted(KINDS))}.",
            )
    return SensitiveFields(
        secret_keys=_names(data, "secret_keys", source),
        weak_secret_keys=_names(data, "weak_secret_keys", source),
        secret_headers=_names(data, "secret_headers", source),
        phi={str(k).lower(): str(v) for k, v in phi.items()},
        coded_keys=_names(data, "coded_keys", source),
    )


def _names(data: dict[str, Any], section: str, source: str) -> frozenset[str]:
    values = data.get(section) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InputError(f"'{section}' in {source} must be a list of names.")
    return frozenset(v.lower() for v in values)


# ---------------------------------------------------------------------------------------------
# Patient values in free text: how the scrubber finds and the reporters mask them (one rule).

# Real values of these kinds are also replaced where they turn up in free text (an error
# message quoting a name), as whole tokens only: never inside a longer word, number or date.
FREE_TEXT_KINDS = frozenset(
    {
        "given_name",
        "family_name",
        "name",
        "ssn",
        "email",
        "street",
        "phone",
        "company",
        "identifier",
        "city",
        "date",
    }
)
# Words match as written, in capitals or capitalised ("SMITH" for "Smith"); digit kinds in any
# punctuation ("123 45 6789").
_WORD_KINDS = frozenset({"given_name", "family_name", "name", "street", "company", "city"})
DIGIT_KINDS = frozenset({"ssn", "phone"})
_MIN_FREE_TEXT_LENGTH = 4
# What forms put in a field when there is no value: never looked for in free text.
_NOT_IDENTIFYING = frozenset(
    {"unknown", "none", "null", "n/a", "not applicable", "declined", "refused", "other", "self"}
)
# A value of digits only is replaced in free text only when this long: "2026" or "10023" as an
# insurance group number would otherwise rewrite every timestamp and cursor holding those digits.
_MIN_FREE_TEXT_DIGITS = 7
_DIGIT_SEPARATORS = r"[ .()/-]{0,2}"
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
US_DAY = re.compile(r"(\d{2})/(\d{2})/(\d{4})")


def day_of(value: str) -> tuple[str, str, str] | None:
    """(year, month, day) of an ISO or US date, for matching a date written either way."""
    iso = _ISO_DAY.fullmatch(value)
    if iso:
        return iso.group(1), iso.group(2), iso.group(3)
    us = US_DAY.fullmatch(value)
    if us:
        return us.group(3), us.group(1), us.group(2)
    return None


def identifies_a_person(kind: str, real: str) -> bool:
    """Whether a patient value is worth finding in free text: it can point to a person.

    Only identifying kinds qualify (names, addresses, phone numbers, e-mails, SSNs, MRNs, dates),
    never free text, codes or a form's "Unknown". A name, street, city or employer is written with a capital letter;
    a value in lower case only ("during", "mother", "example", a status) is a common word or a
    code from a list that happens to sit in a PHI field (a sandbox's seed, a form's relation
    picker): it is still pseudonymised in its field, but rewriting every occurrence of the word
    would corrupt enum texts, URLs and the scrubber's own markers."""
    if kind not in FREE_TEXT_KINDS or real.strip().casefold() in _NOT_IDENTIFYING:
        return False
    if kind == "identifier":  # record, licence and policy numbers carry digits; "none" does not
        return any(c.isdigit() for c in real)
    if kind == "email":  # an address on a reserved domain is nobody's (and holds our markers)
        return not is_reserved_email_domain(real.rpartition("@")[2])
    if kind in _WORD_KINDS:
        return any(c.isupper() for c in real)
    return True


def _spellings(real: str) -> str:
    """A word value as it is written, in capitals, or capitalised ("Lovelace", "LOVELACE"):
    not in lower case, where a name such as "Will", "Hope" or "Young" is a common word."""
    forms = dict.fromkeys((real, real.upper(), real.title()))
    return "(?:" + "|".join(re.escape(f) for f in forms) + ")"


def free_text_forms(kind: str, real: str) -> list[str]:
    """Regex alternatives that find ``real`` in free text (whole tokens, its other spellings)."""
    if not identifies_a_person(kind, real):
        return []
    if kind == "date":
        day = day_of(real[:10])
        if day is None:
            return []
        year, month, num = day
        return [rf"{year}-{month}-{num}", rf"{month}/{num}/{year}"]
    digits = re.sub(r"\D", "", real)
    if kind in DIGIT_KINDS and len(digits) >= _MIN_FREE_TEXT_DIGITS:
        return [_DIGIT_SEPARATORS.join(digits)]
    if len(real) < _MIN_FREE_TEXT_LENGTH or (real.isdigit() and len(real) < _MIN_FREE_TEXT_DIGITS):
        return []
    forms = [_spellings(real) if kind in _WORD_KINDS else re.escape(real)]
    if kind == "email":
        local = real.partition("@")[0]
        if len(local) >= _MIN_FREE_TEXT_LENGTH:
            forms.append("(?i:" + re.escape(local) + r")(?![\w.-]*@)")
    return forms


def whole_token(form: str) -> str:
    """A free-text form matched only as a whole token: not inside a word, number, date or id."""
    return rf"(?<![\w-]){form}(?![\w-])"


def free_text_pattern(values: Iterable[tuple[str, str]]) -> re.Pattern[str] | None:
    """One pattern finding each ``(kind, real value)`` in free text, in any spelling the
    scrubber knows (whole tokens; names in any case; digits in any punctuation; both date
    orders; an e-mail's local part). The reporters mask with it what the scrubber replaces."""
    alternatives = sorted(
        (
            (len(real), whole_token(form))
            for kind, real in values
            if kind in FREE_TEXT_KINDS
            for form in free_text_forms(kind, real)
        ),
        key=lambda pair: pair[0],
        reverse=True,
    )
    return re.compile("|".join(a for _, a in alternatives)) if alternatives else None


def text_key(kind: str, text: str) -> str:
    """The lookup key of a free-text match: one key for all spellings of one value."""
    if kind == "date":
        day = day_of(text[:10])
        return "date:" + "".join(day) if day else text
    if kind in DIGIT_KINDS:
        return f"{kind}:" + re.sub(r"\D", "", text)
    return "text:" + text.casefold()
