"""The typed seams of a run: what units, scenario steps and the pytest plugin get from a session.

They receive a :class:`RunContext`, never the :class:`harness.session.Session` itself, so what
they may use is written down here: the collection and variables, the secrets to mask, the contract
checker, the sandbox controls (when the target is the in-process sandbox), token sources, the one
:class:`~harness.exchange.ExchangeRunner` of the session (one coverage set) and senders per unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from harness.checks import ContractChecker
from harness.collection import Auth, Collection
from harness.redaction import SecretRegistry
from harness.sender import Sender, TokenSource
from harness.variables import Resolver, Scopes

if TYPE_CHECKING:
    from harness.exchange import ExchangeRunner


class SandboxControl(Protocol):
    """What scenarios and the session use of the in-process sandbox."""

    @property
    def base_url(self) -> str: ...

    def environment(self) -> dict[str, str]: ...

    def expire_access_tokens(self) -> None: ...

    def issue_refresh_token(self, scopes: Sequence[str] | None = None) -> str: ...

    def revoke(self, token: str) -> bool: ...

    # The arguments are a scenario's YAML mapping (route, kind, count, methods...).
    def inject_fault(self, args: Mapping[str, Any]) -> None: ...

    def clear_faults(self) -> None: ...


class TokenProvider(Protocol):
    """Token sources for a run's OAuth configurations (``harness.session.tokens.RunTokens``)."""

    def tokens_for(self, auth: Auth, resolver: Resolver) -> TokenSource: ...

    def with_refresh_token(self, token: str) -> TokenProvider:
        """Token sources that use ``token`` (a scenario step's own) and never the run's store."""
        ...


class RunContext(Protocol):
    """What a scheduled unit, a scenario step or the pytest plugin may use of an open session."""

    @property
    def target(self) -> str: ...  # "sandbox", "live" or "replay"

    @property
    def collection(self) -> Collection: ...

    @property
    def scopes(self) -> Scopes: ...

    @property
    def secrets(self) -> SecretRegistry: ...

    @property
    def contracts(self) -> ContractChecker | None: ...

    @property
    def sandbox(self) -> SandboxControl | None: ...

    @property
    def tokens(self) -> TokenProvider: ...

    @property
    def exchange(self) -> ExchangeRunner: ...

    def sender_for(self, unit: str) -> Sender: ...
