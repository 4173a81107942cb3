"""A local DrChrono: OAuth 2.0 as django-oauth-toolkit does it, the REST API with DrChrono's
conventions, seeded synthetic patients, rate limits and fault injection.

    from harness.sandbox import Sandbox, SandboxConfig, FaultKind
    with Sandbox(SandboxConfig(seed=0)) as sb:
        sb.base_url, sb.client_id, sb.client_secret, sb.refresh_token
"""

from harness.sandbox.config import SandboxConfig
from harness.sandbox.faults import Fault, FaultKind
from harness.sandbox.server import Sandbox

__all__ = ["Fault", "FaultKind", "Sandbox", "SandboxConfig"]
