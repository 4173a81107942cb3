"""OAuth 2.0 engine: settings from a Postman auth block, token store, refresh, login, revoke.

Usage (what the run does)::

    settings = OAuth2Settings.from_postman(resolved_oauth2_attributes)
    manager = TokenManager(settings, store=TokenStore.default(), client=client,
                           secrets=registry, refresh_token=os.environ.get("DRCHRONO_REFRESH_TOKEN"))
    exchange = Sender(client).send(built_request, manager)  # applies manager.placement, refreshes after a 401
"""

from harness.auth.manager import TokenManager
from harness.auth.settings import GrantType, OAuth2Settings
from harness.auth.store import StoredToken, TokenStore
from harness.errors import TokenEndpointError

__all__ = [
    "GrantType",
    "OAuth2Settings",
    "StoredToken",
    "TokenEndpointError",
    "TokenManager",
    "TokenStore",
]
