"""Errors a user can act on.

Every problem caused by input or setup (a malformed file, a missing variable, a refused token)
is raised as a :class:`HarnessError`. The CLI prints its message as one paragraph and exits 2;
nothing else is shown, so the message must name the file, line or request and say what to do.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED_CHECKS = 1
EXIT_BAD_INPUT = 2


class HarnessError(Exception):
    """A problem the user can fix. ``str(err)`` is the whole message shown to them."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} {hint}")


class InputError(HarnessError):
    """A file or argument the user gave is wrong (collection, environment, scenario, contract)."""


class UnresolvedVariableError(InputError):
    """A ``{{name}}`` placeholder has no value in any scope."""

    def __init__(self, name: str, where: str) -> None:
        self.name = name
        self.where = where
        super().__init__(
            f"Variable {{{{{name}}}}} used in {where} has no value.",
            hint=(
                f"Define '{name}' in the environment file, pass --env-var {name}=VALUE, "
                f"or set the OS environment variable DRCHRONO_{name.upper()}."
            ),
        )


class CassetteError(HarnessError):
    """A cassette file is unreadable, malformed, or may not be written."""


class CassetteMissError(CassetteError):
    """Replay was asked for a request the cassette does not hold (and recording is not allowed)."""


class AuthError(HarnessError):
    """Obtaining or refreshing a token failed in a way the user must fix (re-login, fix secret).

    Which failures stop a run is decided here, in one place: :attr:`credentials_refused` is true
    for the token endpoint's :data:`REFUSED_CREDENTIALS_CODES` and for a missing refresh token.
    """

    @property
    def credentials_refused(self) -> bool:
        """The credentials themselves are refused or missing: no retry and no later request of
        the run can get a token, so the run stops at once (exit 2) instead of failing each one."""
        return False


# Token endpoint answers that no retry and no later request can change: the credentials are dead.
REFUSED_CREDENTIALS_CODES = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


class TokenEndpointError(AuthError):
    """The token endpoint answered with an RFC 6749 error code (``invalid_grant``, ...)."""

    def __init__(self, message: str, *, error_code: str, hint: str | None = None) -> None:
        self.error_code = error_code
        super().__init__(message, hint=hint)

    @property
    def credentials_refused(self) -> bool:
        return self.error_code in REFUSED_CREDENTIALS_CODES


class MissingRefreshTokenError(AuthError):
    """No refresh token anywhere (store, environment) for a grant that needs a person."""

    @property
    def credentials_refused(self) -> bool:
        return True  # nothing later in the run can produce one


class MissingClientCredentialsError(AuthError, InputError):
    """An OAuth 2.0 block lacks what its grant needs (a client id, a token URL...) and the run
    knows nothing to complete it with (no ``DRCHRONO_CLIENT_ID`` for DrChrono's token endpoint):
    every request of the block would fail the same way."""

    @property
    def credentials_refused(self) -> bool:
        return True


class AccessTokenRejectedError(AuthError):
    """The API refused (401) an access token the run was given rather than obtained itself
    (``DRCHRONO_ACCESS_TOKEN``, a token stored in the collection): the harness cannot refresh it."""

    @property
    def credentials_refused(self) -> bool:
        return True
