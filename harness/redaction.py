"""Keep secret values out of everything the harness writes or prints.

Each run owns one :class:`SecretRegistry`. Whoever learns a secret (the environment loader for a
client secret, the OAuth engine for tokens and codes) registers it; every logger, reporter,
exception message and cassette writer passes text through :meth:`SecretRegistry.redact`.
"""

from __future__ import annotations

import re
import threading

MASK = "[REDACTED]"
# Values shorter than this are not treated as secrets: masking "1" or "ab" would shred reports.
_MIN_SECRET_LENGTH = 6


class SecretRegistry:
    """A thread-safe set of secret strings, with redaction of any text that contains them."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str | None) -> None:
        if not value or len(value) < _MIN_SECRET_LENGTH:
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                self._pattern = None

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def values(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._values)

    def redact(self, text: str) -> str:
        with self._lock:
            if not self._values:
                return text
            if self._pattern is None:
                # Longest first so that a secret containing another is masked whole.
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            pattern = self._pattern
        return pattern.sub(MASK, text)

    def find_in(self, text: str) -> list[str]:
        """The registered secrets that occur in ``text`` (for last-line guards)."""
        return [v for v in self.values() if v in text]
