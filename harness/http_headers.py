"""What an HTTP header may carry, as Node (so Newman) allows it: checked before anything is sent."""

from __future__ import annotations

import re

from harness.errors import InputError

# RFC 9110 token characters: what a header name may be made of.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# What a header value may hold, as Node (so Newman) allows it: tab, printable ASCII and the
# Latin-1 range, sent as one byte each. Anything else fails that request, as in Newman.
_HEADER_VALUE_BAD_CHAR = re.compile(r"[^\t\x20-\x7e\x80-\xff]")


def check_header(name: str, value: str, where: str) -> None:
    if not _HEADER_NAME.fullmatch(name):
        raise InputError(
            f"Header name {name[:100]!r} of {where} is not a valid HTTP header name.",
            hint="Use only letters, digits and !#$%&'*+-.^_`|~ in header names.",
        )
    bad = _HEADER_VALUE_BAD_CHAR.search(value)
    if bad is not None:
        raise InputError(
            f"Header {name!r} of {where} contains {bad.group()!r} (U+{ord(bad.group()):04X}), "
            "which an HTTP header cannot carry (header values are Latin-1, without control "
            "characters, as in Newman).",
            hint="Percent-encode the value, or put it in the body.",
        )
