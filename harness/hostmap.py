"""Send requests for DrChrono's hosts to the sandbox instead.

Collections exported from Postman often hard-code ``https://drchrono.com/o/token/`` and
``https://app.drchrono.com/api/...`` rather than using variables. When the target is the sandbox,
this transport rewrites those origins, so such a collection runs against the sandbox unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

DRCHRONO_HOSTS = ("drchrono.com", "app.drchrono.com", "www.drchrono.com")


class HostMappingTransport(httpx.BaseTransport):
    """Rewrites the scheme, host and port of requests to mapped hosts; passes others through."""

    def __init__(self, inner: httpx.BaseTransport, hosts: Mapping[str, str]) -> None:
        self.inner = inner
        self.targets = {host.lower(): httpx.URL(origin) for host, origin in hosts.items()}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = self.targets.get(request.url.host.lower())
        if target is not None:
            request.url = request.url.copy_with(
                scheme=target.scheme, host=target.host, port=target.port
            )
            request.headers["Host"] = target.netloc.decode("ascii")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
