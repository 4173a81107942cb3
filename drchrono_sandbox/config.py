"""How a sandbox behaves: one frozen dataclass, filled from Python or from CLI flags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

# django-oauth-toolkit's default lifetime on DrChrono: 48 hours.
DEFAULT_ACCESS_TTL = 172800

# Redirect URIs registered for the sandbox's application. The first one is what
# `Sandbox.redirect_uri` reports; loopback URIs match on any port (RFC 8252 section 7.3),
# so a harness login helper can listen on whatever free port it finds.
DEFAULT_REDIRECT_URIS = (
    "http://127.0.0.1:8976/callback",
    "http://localhost:8976/callback",
    "https://oauth.pstmn.io/v1/callback",
)


@dataclass(frozen=True)
class SandboxConfig:
    seed: int = 0
    access_ttl: int = DEFAULT_ACCESS_TTL
    rate_limit: bool = False
    state_file: Path | str | None = None
    auto_approve: bool = True
    code_ttl: int = 60
    # django-oauth-toolkit's REFRESH_TOKEN_GRACE_PERIOD_SECONDS: for this long after a rotation
    # the spent refresh token gets the same new pair again (0: it is refused at once). Kept in
    # memory only, so a restart ends the grace.
    refresh_grace_s: float = 0.0
    patients: int = 30
    appointments: int = 60
    offices: int = 2
    # Per-record lists (allergies, medications, problems, clinical notes, tasks).
    clinical_records: int = 20
    page_size: int = 25
    max_page_size: int = 250
    # Rate limits: DrChrono allows 500 requests an hour per application plus a burst
    # throttle of 10 a second. No Retry-After unless a value is configured here.
    hourly_limit: int = 500
    burst_limit: int = 10
    throttle_retry_after: int | None = None
    redirect_uris: tuple[str, ...] = DEFAULT_REDIRECT_URIS
    # Appointments are spread around this day; None means today (so "today's schedule" exists).
    anchor_date: dt.date | None = None
    # Operations with nothing to keep (204 acknowledgements, a patient's CCDA) answer, and the
    # ones with nothing to serve them from say 501; switch off to get 404 for both.
    generated_operations: bool = field(default=True)
    # Records seeded per family the sandbox derives from the contracts (drchrono_sandbox.families),
    # on the first request that touches the family.
    family_records: int = 3
    # The DrChrono data served: None means the copy shipped with this distribution
    # (drchrono_sandbox.paths). load_document and load_shapes cache per path.
    openapi_document: Path | None = None
    contracts_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.access_ttl < 0 or self.code_ttl < 0 or self.refresh_grace_s < 0:
            raise ValueError(
                "access_ttl, code_ttl and refresh_grace_s must be zero or more seconds"
            )
        if not 1 <= self.page_size <= self.max_page_size:
            raise ValueError("page_size must be between 1 and max_page_size")
        if not self.redirect_uris:
            raise ValueError("at least one redirect URI is needed")

    @property
    def state_path(self) -> Path | None:
        return None if self.state_file is None else Path(self.state_file)
