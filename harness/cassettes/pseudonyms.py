"""Format-keeping fake values for patient data, and recognisers for them.

A pseudonym is derived from the real value with HMAC under a salt, so it says nothing about the
value without the salt. Every kind is shaped so that a scanner can later tell a pseudonym from a
real value by a marker no real value can carry: names are four syllables with a check syllable,
SSNs start with area 000 (never issued, not even as an ITIN), phone numbers start with 0 (no North
American area code or exchange does), ZIP codes start with 000 (never assigned), dates fall in the 1800s
(no living patient's), e-mails use the reserved ``pseudonym.example`` domain. Identifiers keep
their shape and cannot be told apart from real ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import threading

PSEUDONYM_DOMAIN = "pseudonym.example"
_SYLLABLES = (
    "ba",
    "ke",
    "lo",
    "mi",
    "nu",
    "ra",
    "so",
    "ti",
    "vu",
    "ze",
    "da",
    "fe",
    "go",
    "hi",
    "ju",
    "pa",
)
_NAME_WORD = re.compile(r"^[A-Z][a-z]{7}$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(.*)$")
_US_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
# Fake dates fall in the 1800s: no patient alive was born then, so the year is the marker.
_FIRST_BIRTH_DAY = dt.date(1800, 1, 1)
_BIRTH_DAY_SPAN = 99 * 365
_MAX_ATTEMPTS = 64


class _Digest:
    """An endless stream of pseudo-random integers from one HMAC seed."""

    def __init__(self, salt: bytes, message: str) -> None:
        self._salt = salt
        self._message = message.encode("utf-8")
        self._block = b""
        self._counter = 0

    def take(self, modulo: int) -> int:
        if len(self._block) < 4:
            self._block += hmac.new(
                self._salt, self._counter.to_bytes(4, "big") + self._message, hashlib.sha256
            ).digest()
            self._counter += 1
        chunk, self._block = self._block[:4], self._block[4:]
        return int.from_bytes(chunk, "big") % modulo

    def digits(self, count: int) -> str:
        return "".join(str(self.take(10)) for _ in range(count))

    def hex(self, count: int) -> str:
        return "".join("0123456789abcdef"[self.take(16)] for _ in range(count))


def _check_syllable(a: int, b: int, c: int) -> int:
    return (a * 7 + b * 3 + c * 5 + 1) % len(_SYLLABLES)


def _name_word(d: _Digest) -> str:
    a, b, c = d.take(16), d.take(16), d.take(16)
    word = "".join(_SYLLABLES[i] for i in (a, b, c, _check_syllable(a, b, c)))
    return word.capitalize()


def is_name_word(word: str) -> bool:
    if not _NAME_WORD.match(word):
        return False
    parts = [word[i : i + 2].lower() for i in range(0, 8, 2)]
    if any(p not in _SYLLABLES for p in parts):
        return False
    a, b, c, check = (_SYLLABLES.index(p) for p in parts)
    return check == _check_syllable(a, b, c)


def _digits_of(value: str) -> str:
    return re.sub(r"\D", "", value)


def relayout_digits(digits: str, layout: str) -> str:
    """``layout`` with its digits replaced, in order, by ``digits`` ("(787) 555-0142" shape kept)."""
    supply = iter(digits)
    return re.sub(r"\d", lambda _: next(supply, "0"), layout)


def _substitute_digits(value: str, d: _Digest) -> str:
    return re.sub(r"\d", lambda _: str(d.take(10)), value)


def _substitute_alnum(value: str, d: _Digest) -> str:
    def one(char: str) -> str:
        if char.isdigit():
            return str(d.take(10))
        letter = "abcdefghijklmnopqrstuvwxyz"[d.take(26)]
        return letter.upper() if char.isupper() else letter

    return "".join(one(c) if c.isascii() and c.isalnum() else c for c in value)


def _date(value: str, d: _Digest) -> str:
    fake = _FIRST_BIRTH_DAY + dt.timedelta(days=d.take(_BIRTH_DAY_SPAN))
    iso = _ISO_DATE.match(value)
    if iso:
        return fake.isoformat() + iso.group(4)
    if _US_DATE.match(value):
        return fake.strftime("%m/%d/%Y")
    return _substitute_digits(value, d)


def _ssn(value: str, d: _Digest) -> str:
    digits = "000" + d.digits(6)
    if sum(c.isdigit() for c in value) == 9:
        return relayout_digits(digits, value)
    return _substitute_digits(value, d)


def _phone(value: str, d: _Digest) -> str:
    count = sum(c.isdigit() for c in value)
    if count < 7:
        return _substitute_digits(value, d)
    # The marker: the number proper (after a leading country code 1) starts with 0, which no
    # North American area code or exchange does.
    country = "1" if count == 11 and _digits_of(value).startswith("1") else ""
    return relayout_digits(country + "0" + d.digits(count - 1 - len(country)), value)


def _zip(value: str, d: _Digest) -> str:
    match = re.fullmatch(r"(\d{5})(-\d{4})?", value)
    if not match:
        return _substitute_digits(value, d)
    return "000" + d.digits(2) + ("-" + d.digits(4) if match.group(2) else "")


def _words(value: str, d: _Digest) -> str:
    count = min(max(len(value.split()), 1), 3)
    return " ".join(_name_word(d) for _ in range(count))


def make_pseudonym(kind: str, value: str, d: _Digest) -> str:
    """A fake value of ``kind`` in the format of ``value``, from the digest stream ``d``."""
    if kind in ("given_name", "family_name", "city"):
        return _name_word(d)
    if kind == "name":
        return _words(value, d)
    if kind == "date":
        return _date(value, d)
    if kind == "ssn":
        return _ssn(value, d)
    if kind == "phone":
        return _phone(value, d)
    if kind == "email":
        return f"{_name_word(d).lower()}.{d.hex(4)}@{PSEUDONYM_DOMAIN}"
    if kind == "street":
        return f"{1 + d.take(9999)} {_name_word(d)} St"
    if kind == "zip":
        return _zip(value, d)
    if kind == "company":
        return f"{_name_word(d)} Company"
    if kind == "identifier":
        return _substitute_alnum(value, d)
    if kind == "url":
        return f"https://files.{PSEUDONYM_DOMAIN}/{d.hex(12)}"
    return f"[scrubbed text {d.hex(8)}]"


def looks_pseudonymous(kind: str, value: str) -> bool | None:
    """Whether ``value`` is one of our pseudonyms of ``kind``; None when the kind cannot tell."""
    value = value.strip()
    if not value:
        return True
    if kind in ("given_name", "family_name", "city", "name"):
        return all(is_name_word(w) for w in value.split())
    if kind == "email":
        return value.lower().endswith("@" + PSEUDONYM_DOMAIN)
    if kind == "ssn":
        return _digits_of(value).startswith("000")
    if kind == "phone":
        digits = _digits_of(value)
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        return len(digits) < 7 or digits.startswith("0")
    if kind == "zip":
        return value.startswith("000") or not value[:1].isdigit()
    if kind == "street":
        parts = value.split()
        return (
            len(parts) == 3 and parts[0].isdigit() and is_name_word(parts[1]) and parts[2] == "St"
        )
    if kind == "company":
        return value.endswith(" Company") and is_name_word(value.split()[0])
    if kind == "url":
        return PSEUDONYM_DOMAIN in value
    if kind == "date":
        iso, us = _ISO_DATE.match(value), _US_DATE.match(value)
        year = iso.group(1) if iso else us.group(3) if us else None
        return None if year is None else year.startswith("18")
    if kind == "text":
        return value.startswith("[scrubbed text ")
    return None


class PseudonymTable:
    """Real value -> pseudonym, consistent for the life of the table and one-to-one per kind.

    Share one table (through one :class:`~harness.cassettes.scrub.Scrubber`) across the cassettes
    of a recording session so that the same patient gets the same fake name everywhere.
    """

    def __init__(self, salt: bytes) -> None:
        self._salt = salt
        self._forward: dict[tuple[str, str], str] = {}
        self._taken: set[tuple[str, str]] = set()
        self._fakes: set[str] = set()
        self._lock = threading.Lock()

    def pseudonym(self, kind: str, value: str) -> str:
        with self._lock:
            known = self._forward.get((kind, value))
            if known is not None:
                return known
            attempt = 0
            while True:
                fake = make_pseudonym(
                    kind, value, _Digest(self._salt, f"{kind}\0{attempt}\0{value}")
                )
                # A fake must not be the real value itself, and should not collide with another
                # value's fake (tiny value spaces, such as one digit, may have to accept that).
                if fake != value and ((kind, fake) not in self._taken or attempt >= _MAX_ATTEMPTS):
                    break
                attempt += 1
            self._forward[(kind, value)] = fake
            self._taken.add((kind, fake))
            self._fakes.add(fake)
            return fake

    def items(self) -> list[tuple[tuple[str, str], str]]:
        """``((kind, real value), pseudonym)`` for every value seen so far."""
        with self._lock:
            return list(self._forward.items())

    def is_pseudonym(self, value: str) -> bool:
        with self._lock:
            return value in self._fakes
