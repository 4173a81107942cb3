"""Which hosts are this machine: the only places plain HTTP may carry a token or a credential."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8, ::1, ``localhost`` and ``*.localhost`` (RFC 6761): never a name that only
    starts with ``127.`` (``127.example.com`` is an ordinary, remote host)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
    except ValueError:  # an unparsable URL is not known to be local
        return False
    return is_loopback_host(host)
