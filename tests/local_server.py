"""The one way tests serve HTTP: a threaded server on 127.0.0.1, started and stopped by the test."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def local_server(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A server for ``handler`` on a free loopback port (not serving yet: see :func:`serving`)."""
    return ThreadingHTTPServer(("127.0.0.1", 0), handler)


@contextmanager
def serving(httpd: ThreadingHTTPServer) -> Iterator[str]:
    """Serve ``httpd`` from a daemon thread and yield its base URL; shut it down afterwards."""
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    scheme = "https" if isinstance(httpd.socket, ssl.SSLSocket) else "http"
    try:
        yield f"{scheme}://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
