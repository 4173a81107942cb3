"""One rule for turning user text (collection, folder and scenario names) into an identifier."""

from __future__ import annotations

import re

_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]+")


def slug(text: str, *, sep: str = "-", empty: str = "unnamed") -> str:
    """Runs of anything but ``[A-Za-z0-9]`` become one ``sep``, trimmed, lower case:
    ``Patient registration [1]`` -> ``patient-registration-1``; ``empty`` when nothing is left.

    Cassette file names use the defaults (shipped cassette names depend on them); JUnit class
    names use ``sep="_", empty="root"``.
    """
    return _NOT_ALPHANUMERIC.sub(sep, text).strip(sep).lower() or empty
