"""A Postman ``oauth2`` auth block as the run uses it: where the token goes on each request.

The token engine (:mod:`harness.auth`) reads the block into settings; the sender only needs the
placement, so it lives here, below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

ACCESS_TOKEN_PARAMETER = "access_token"


@dataclass(frozen=True)
class TokenPlacement:
    """Postman's ``addTokenTo`` and ``headerPrefix``, applied as postman-runtime does: the query
    parameter is appended, and the header replaces any ``Authorization`` the request has."""

    in_query: bool = False
    header_prefix: str = "Bearer"  # an empty prefix sends "Bearer", as Postman does

    def apply(
        self, url: str, headers: list[tuple[str, str]], token: str
    ) -> tuple[str, list[tuple[str, str]]]:
        """The URL and headers of a request that carries ``token``."""
        if self.in_query:
            query = urlencode({ACCESS_TOKEN_PARAMETER: token})
            return url + ("&" if "?" in url else "?") + query, headers
        kept = [(name, value) for name, value in headers if name.lower() != "authorization"]
        return url, [*kept, ("Authorization", f"{self.header_prefix or 'Bearer'} {token}")]
