"""OAuth 2.0 engine: settings from a Postman auth block, token store, refresh, login, revoke.

Usage (the runner)::

    settings = OAuth2Settings.from_postman(resolved_oauth2_params)
    manager = TokenManager(settings, store=TokenStore.default(), client=client,
                           secrets=registry, refresh_token=os.environ.get("DRCHRONO_REFRESH_TOKEN"))
    manager.authorization().apply(request)      # or client.send(request, auth=manager.httpx_auth())
"""

from harness.auth.manager import AppliedToken, OAuth2Auth, TokenManager
from harness.auth.settings import GrantType, OAuth2Settings
from harness.auth.store import StoredToken, TokenStore
from harness.errors import TokenEndpointError

__all__ = [
    "AppliedToken",
    "GrantType",
    "OAuth2Auth",
    "OAuth2Settings",
    "StoredToken",
    "TokenEndpointError",
    "TokenManager",
    "TokenStore",
]
