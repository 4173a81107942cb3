"""Access tokens the run is given rather than obtains: sent as they are, never refreshed.

Two kinds: one obtained elsewhere (``DRCHRONO_ACCESS_TOKEN``, ``harness run --access-token-env`` or
``--access-token-file``; a CI job that refreshed once with ``harness auth export-access-token``),
which every OAuth 2.0 request of the run carries; and one Postman stored in a collection's auth
block (``accessToken``), which that block's requests carry, as Postman and Newman send it. Neither
can be refreshed, so a 401 stops the run (exit 2) with what to do.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import AccessTokenRejectedError, InputError
from harness.oauth_attributes import TokenPlacement

ACCESS_TOKEN_VARIABLE = "DRCHRONO_ACCESS_TOKEN"


@dataclass(frozen=True)
class GivenAccessToken:
    """A :class:`~harness.sender.TokenSource` for a token the run may not refresh."""

    token: str = field(repr=False)
    placement: TokenPlacement
    # What the 401 message says: where the token came from, and how to get a fresh one.
    refused: str
    hint: str

    def access_token(self) -> str:
        return self.token

    def refresh_after_401(self, rejected: str) -> str:
        raise AccessTokenRejectedError(self.refused, hint=self.hint)

    def placed(self, placement: TokenPlacement) -> GivenAccessToken:
        """The same token, where another auth block puts it."""
        return GivenAccessToken(self.token, placement, self.refused, self.hint)


def external_access_token(token: str, origin: str) -> GivenAccessToken:
    """The token a run was given (``origin``: the variable or option it came from)."""
    drop = f"unset {origin}" if origin == ACCESS_TOKEN_VARIABLE else f"leave out {origin}"
    return GivenAccessToken(
        token,
        TokenPlacement(),
        refused=f"DrChrono refused (401) the access token this run was given ({origin}): it has "
        "expired (DrChrono's access tokens live 48 hours), was revoked, or belongs to another "
        "API application or host. A token the run is given is never refreshed.",
        hint="Get a fresh one with `harness auth export-access-token` where the refresh token is "
        f"kept, and run again; or {drop} so that the harness refreshes its own from "
        "DRCHRONO_CLIENT_ID, DRCHRONO_CLIENT_SECRET and DRCHRONO_REFRESH_TOKEN.",
    )


def stored_access_token(token: str, placement: TokenPlacement) -> GivenAccessToken:
    """The ``accessToken`` Postman stored in a collection's OAuth 2.0 block."""
    return GivenAccessToken(
        token,
        placement,
        refused="DrChrono refused (401) the access token stored in the collection's OAuth 2.0 "
        "settings (the accessToken Postman saved in the auth block when it last fetched one): "
        "it has expired (DrChrono's access tokens live 48 hours) or was revoked.",
        hint="Get a new one in Postman (Authorization > Get New Access Token) and export the "
        f"collection again, or give the run a fresh token in {ACCESS_TOKEN_VARIABLE} (`harness "
        "auth export-access-token` prints one): it takes the place of stored tokens.",
    )


def read_access_token_option(env_name: str | None, file: Path | None) -> tuple[str, str] | None:
    """The token (and its origin) that ``--access-token-env NAME`` or ``--access-token-file
    PATH`` (``-``: standard input) names: never a command-line argument, which ``ps`` shows."""
    if env_name:
        value = os.environ.get(env_name, "").strip()
        if not value:
            raise InputError(
                f"--access-token-env {env_name}: the environment variable {env_name} is not set "
                "or empty.",
                hint=f"Export it first (in CI: `env: {env_name}: ${{{{ ... }}}}`), or leave the "
                f"option out and set {ACCESS_TOKEN_VARIABLE}.",
            )
        return value, f"--access-token-env {env_name}"
    if file is None:
        return None
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"--access-token-file {file}: cannot read it ({type(exc).__name__}).",
            hint="Give a readable text file holding the access token alone, or '-' for stdin.",
        ) from None
    value = text.strip()
    if not value or any(c.isspace() for c in value):
        raise InputError(
            f"--access-token-file {file} does not hold one access token (it is empty or has "
            "more than one word).",
            hint="Write the token alone into it, e.g. `harness auth export-access-token > FILE`.",
        )
    return value, f"--access-token-file {file}"
