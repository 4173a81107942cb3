"""Text from a run made fit for a report file.

Names, URLs and messages come from collections and servers and may hold any character. XML 1.0
cannot carry most control characters at all (a JUnit file with one is not well-formed), HTML
treats them as errors, and half a surrogate pair (a JSON ``"\\ud800"`` escape) cannot be written
as UTF-8. Such characters are shown as Python-style escapes (``\\x1b``, ``\\ud800``) instead.
"""

from __future__ import annotations

import re

# Everything outside XML 1.0's Char production, plus DEL and the C1 controls (valid XML, but
# invisible, and terminals act on some of them).
_UNFIT = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def report_text(text: str) -> str:
    """``text`` with every character a report file cannot hold written as its escape."""
    return _UNFIT.sub(lambda match: repr(match.group())[1:-1], text)
