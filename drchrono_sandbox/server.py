"""`Sandbox`: the local DrChrono, served by uvicorn from a background thread on loopback."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from drchrono_sandbox import api, oauth
from drchrono_sandbox.config import SandboxConfig
from drchrono_sandbox.context import RequestCounter, SandboxContext
from drchrono_sandbox.data import seed_store
from drchrono_sandbox.errors import SandboxError
from drchrono_sandbox.faults import FaultInjector, FaultMiddleware
from drchrono_sandbox.files import atomic_write_text
from drchrono_sandbox.openapi_ops import ALL_SCOPES, load_document
from drchrono_sandbox.shapes import ContractShapes, load_shapes
from drchrono_sandbox.state import Client, Store, derive_secret, digest
from drchrono_sandbox.throttle import DrChronoThrottle

START_TIMEOUT = 10.0


class CountingMiddleware:
    """Outermost layer: every request is counted before faults or routing see it."""

    def __init__(self, app: ASGIApp, counter: RequestCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.counter.add(scope["path"])
        await self.app(scope, receive, send)


def build_app(ctx: SandboxContext) -> ASGIApp:
    app = Starlette(routes=[*oauth.routes, *api.routes])
    app.state.ctx = ctx
    return CountingMiddleware(FaultMiddleware(app, ctx.faults), ctx.counter)


class Sandbox:
    """A DrChrono look-alike on ``http://host:port``; use as a context manager."""

    def __init__(
        self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or SandboxConfig()
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        doc = load_document(self.config.openapi_document)
        shapes = load_shapes(self.config.contracts_dir)
        store = self._open_store(doc, shapes)
        self.client_id = derive_secret(store.seed, "client_id", 40)
        self.client_secret = derive_secret(store.seed, "client_secret", 64)
        self._register_client(store)
        self.refresh_token = self._ready_refresh_token(store)
        limiter = DrChronoThrottle(self.config.hourly_limit, self.config.burst_limit)
        self.ctx = SandboxContext(
            self.config, store, doc, shapes, self.client_id, faults=FaultInjector(), limiter=limiter
        )
        self.app = build_app(self.ctx)

    # -- set-up ---------------------------------------------------------------------------
    def _open_store(self, doc: Any, shapes: ContractShapes) -> Store:
        path = self.config.state_path
        if path is not None and path.exists():
            return Store.load(path)
        store = Store(seed=self.config.seed, path=path)
        seed_store(store, self.config, doc, shapes)
        return store

    def _register_client(self, store: Store) -> None:
        with store.lock:
            client = store.clients.get(self.client_id)
            if client is None:
                store.clients[self.client_id] = Client(
                    self.client_id, digest(self.client_secret), list(self.config.redirect_uris)
                )
            elif client.secret_hash != digest(self.client_secret):
                raise SandboxError(
                    f"The sandbox state file {store.path} holds a client this sandbox cannot "
                    "authenticate (it was written by another version).",
                    hint="Delete the state file to start from fresh seeded data.",
                )
            else:
                # Redirect URIs follow the configuration, so a restart can add one.
                client.redirect_uris = list(
                    dict.fromkeys([*client.redirect_uris, *self.config.redirect_uris])
                )

    def _ready_refresh_token(self, store: Store) -> str:
        """The seed's "already authorized" token; after it was rotated away, the next one."""
        generation = int(store.meta.get("ready_generation", 0))
        token = derive_secret(store.seed, f"refresh_token/{generation}", 40)
        if not store.has_refresh(token):
            if generation or store.meta.get("ready_issued"):
                generation += 1
                token = derive_secret(store.seed, f"refresh_token/{generation}", 40)
            store.meta["ready_generation"] = generation
            store.meta["ready_issued"] = True
            store.issue(
                self.client_id,
                ALL_SCOPES,
                self.config.access_ttl,
                with_refresh=True,
                refresh_value=token,
            )
        store.save()
        return token

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self._thread is not None:
            return self
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self._requested_port,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            server_header=False,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="drchrono-sandbox", daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise SandboxError(
                    f"The DrChrono sandbox could not listen on {self.host}:{self._requested_port}.",
                    hint="Another program probably uses that port; pick another with --port "
                    "(0 picks a free one).",
                )
            time.sleep(0.01)
        self._server, self._thread = server, thread
        self._port = server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None
        self.ctx.store.save()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- facts -------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise SandboxError(
                "The sandbox is not running; use it as a context manager or call start() first."
            )
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def redirect_uri(self) -> str:
        return self.config.redirect_uris[0]

    @property
    def faults(self) -> FaultInjector:
        return self.ctx.faults

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def doctor_id(self) -> int:
        return int(self.store.meta["doctor_id"])

    # -- controls ----------------------------------------------------------------------------
    def issue_refresh_token(self, scopes: list[str] | tuple[str, ...] | None = None) -> str:
        """A new refresh token granted ``scopes`` (default: all), as if a person authorized."""
        wanted = list(scopes) if scopes is not None else list(ALL_SCOPES)
        unknown = [s for s in wanted if s not in ALL_SCOPES]
        if unknown:
            raise SandboxError(
                f"Unknown DrChrono scope(s) {', '.join(unknown)}.",
                hint=f"Known scopes: {' '.join(ALL_SCOPES)}.",
            )
        issued = self.store.issue(self.client_id, wanted, self.config.access_ttl, with_refresh=True)
        assert issued.refresh_token is not None
        return issued.refresh_token

    def expire_access_tokens(self) -> None:
        self.store.expire_access_tokens()

    def revoke(self, token: str) -> bool:
        return self.store.revoke(token)

    def request_count(self, path_prefix: str = "") -> int:
        return self.ctx.counter.count(path_prefix)

    def reset_request_counts(self) -> None:
        self.ctx.counter.reset()

    def environment(self) -> dict[str, str]:
        office = next(iter(self.store.table("offices").values()))
        room = office["exam_rooms"][0]["index"]
        return {
            "base_url": self.base_url,
            "auth_base_url": self.base_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            "redirect_uri": self.redirect_uri,
            "doctor_id": str(self.doctor_id),
            "office_id": str(office["id"]),
            "exam_room": str(room),
        }

    def write_environment(self, path: str | Path) -> Path:
        """The environment as a Postman environment file, readable only by its owner."""
        secret_keys = {"client_secret", "refresh_token"}
        document = {
            "id": str(uuid.UUID(int=self.store.seed % (1 << 128))),
            "name": "DrChrono sandbox",
            "values": [
                {
                    "key": k,
                    "value": v,
                    "type": "secret" if k in secret_keys else "default",
                    "enabled": True,
                }
                for k, v in self.environment().items()
            ],
            "_postman_variable_scope": "environment",
            "_postman_exported_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "_postman_exported_using": "drchrono-harness sandbox",
        }
        target = Path(path)
        atomic_write_text(target, json.dumps(document, indent=2) + "\n", mode=0o600)
        return target
