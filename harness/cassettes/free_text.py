"""Known patient values found again in free text, fast with many values.

One alternation of every known value, recompiled whenever a value is learned and tried at every
position of every string, made recording quadratic (a 641-request recording spent most of its CPU
compiling and running it). Here each value is filed under an *anchor* that any text holding it
must show: for a word value, its longest word (case-folded); for a value matched in any
punctuation of its digits (phone, SSN, date), the last four digits of a digit group. A text is
cut into the same anchors, and only the few values whose anchors it shows are looked for, each with its own pattern compiled once,
longest value first (a whole name before one of its words). The forms are the same as before
(:func:`harness.phi_fields.free_text_forms`, whole tokens only).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from harness.phi_fields import DIGIT_KINDS, day_of, free_text_forms, whole_token

_WORD = re.compile(r"\w+")
# Digits as the digit kinds' forms allow them to be written: single digits joined by at most two
# of these separators (see phi_fields._DIGIT_SEPARATORS).
_DIGIT_GROUP = re.compile(r"\d(?:[ .()/-]{0,2}\d)*")
_DIGIT_RUN = re.compile(r"\d+")
_ANCHOR_DIGITS = 4


@dataclass(frozen=True)
class KnownValue:
    kind: str
    real: str
    pattern: re.Pattern[str]  # the scrubber's markers (group "own"), then the value's forms


def _value_anchors(kind: str, real: str) -> set[str]:
    if kind == "date":  # a day is found written as YYYY-MM-DD or as MM/DD/YYYY
        day = day_of(real[:10])
        return {day[1] + day[2], day[0]} if day else set()
    if kind in DIGIT_KINDS:
        return {re.sub(r"\D", "", real)[-_ANCHOR_DIGITS:]}
    text = real.partition("@")[0] if kind == "email" else real
    words = _WORD.findall(text.casefold()) or _WORD.findall(real.casefold())
    return {max(words, key=len)} if words else set()


def text_anchors(text: str) -> set[str]:
    """The anchors a text shows: its words (case-folded), and for each place where a run of
    digits ends, the last four digits written up to there (separators left out)."""
    anchors = set(_WORD.findall(text.casefold()))
    for group in _DIGIT_GROUP.finditer(text):
        digits = ""
        for run in _DIGIT_RUN.findall(group.group(0)):
            digits += run
            anchors.add(digits[-_ANCHOR_DIGITS:])
    return anchors


class PatientTextIndex:
    """The patient values the free-text pass looks for, filed by anchor. Thread-safe."""

    def __init__(self, protected: str) -> None:
        # Matched first and left whole: the scrubber's own markers (see scrub._OWN_MARKERS).
        self._protected = protected
        self._by_anchor: dict[str, list[KnownValue]] = {}
        self._known: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def add(self, kind: str, real: str) -> None:
        with self._lock:
            if (kind, real) in self._known:
                return
            self._known.add((kind, real))
        forms = free_text_forms(kind, real)
        if not forms:
            return
        alternatives = "|".join(whole_token(f) for f in forms)
        value = KnownValue(kind, real, re.compile(f"(?P<own>{self._protected})|{alternatives}"))
        with self._lock:
            for anchor in _value_anchors(kind, real):
                self._by_anchor.setdefault(anchor, []).append(value)

    def sub(self, text: str, replace: Callable[[re.Match[str]], str]) -> str:
        """``text`` with every known value replaced by ``replace(match)``; a match whose
        ``lastgroup`` is ``"own"`` is one of the scrubber's markers."""
        if not self._by_anchor:
            return text
        candidates: set[KnownValue] = set()
        with self._lock:
            for anchor in text_anchors(text):
                candidates.update(self._by_anchor.get(anchor, ()))
        # Longest value first: a whole value ("Ada Lovelace") before one of its words.
        for value in sorted(candidates, key=lambda v: (-len(v.real), v.kind, v.real)):
            text = value.pattern.sub(replace, text)
        return text
