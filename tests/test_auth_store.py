"""Token store durability and the manager's refresh logic against an in-process fake endpoint."""

from __future__ import annotations

import json
import stat
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from harness.auth import OAuth2Settings, StoredToken, TokenManager, TokenStore
from harness.auth.store import PendingRefresh, fingerprint
from harness.errors import AuthError
from harness.redaction import SecretRegistry

TOKEN_URL = "https://drchrono.example/o/token/"


class FakeTokenEndpoint:
    """A rotating refresh-token endpoint behind httpx.MockTransport; counts what it serves."""

    def __init__(self, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.live_refresh: set[str] = {"seed-refresh-token-0"}
        self.requests = 0
        self.delay_s = 0.0
        self._n = 0
        self._lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        time.sleep(self.delay_s)  # widen the race window for the concurrency tests
        with self._lock:
            self.requests += 1
            if request.url.path.endswith("/revoke_token/"):
                self.live_refresh.discard(form.get("token", ""))
                return httpx.Response(200, content=b"")
            if form.get("grant_type") == "refresh_token":
                if form.get("refresh_token") not in self.live_refresh:
                    return httpx.Response(400, json={"error": "invalid_grant"})
                self.live_refresh.discard(form["refresh_token"])
            self._n += 1
            new_refresh = f"rotated-refresh-token-{self._n}"
            self.live_refresh.add(new_refresh)
            return httpx.Response(
                200,
                json={
                    "access_token": f"access-token-number-{self._n}",
                    "token_type": "Bearer",
                    "expires_in": self.expires_in,
                    "scope": "patients:read",
                    "refresh_token": new_refresh,
                },
            )

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))


def settings(**extra: str) -> OAuth2Settings:
    return OAuth2Settings.from_postman(
        {
            "accessTokenUrl": TOKEN_URL,
            "clientId": "client-1",
            "clientSecret": "client-secret-1",
            "tokenName": "drchrono",
            **extra,
        }
    )


def manager(
    store: TokenStore,
    endpoint: FakeTokenEndpoint,
    *,
    seed: str | None,
    clock: object = time.time,
    secrets: SecretRegistry | None = None,
) -> TokenManager:
    return TokenManager(
        settings(),
        store=store,
        client=endpoint.client(),
        secrets=secrets or SecretRegistry(),
        refresh_token=seed,
        clock=clock,  # type: ignore[arg-type]
    )


def entry(**values: object) -> StoredToken:
    base: dict[str, object] = dict(token_name="drchrono", client_id="client-1", token_url=TOKEN_URL)
    return StoredToken(**{**base, **values})  # type: ignore[arg-type]


# -- the store ---------------------------------------------------------------------------------


def test_store_file_is_private_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "cache" / "tokens.json")
    store.put(entry(access_token="access-xyz-123", refresh_token="refresh-xyz-123"))
    path = tmp_path / "cache" / "tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["tokens.json", "tokens.json.lock"]
    again = TokenStore(path).get(("drchrono", "client-1", TOKEN_URL))
    assert again is not None and again.refresh_token == "refresh-xyz-123"
    assert "refresh-xyz-123" not in repr(again)


def test_corrupt_store_is_kept_aside_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tokens.json"
    path.write_text('{"version": 1, "tokens": {"half": ')
    store = TokenStore(path)
    assert store.get(("drchrono", "client-1", TOKEN_URL)) is None
    aside = list(tmp_path.glob("tokens.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text().startswith('{"version": 1')
    assert "moved aside" in caplog.text and "harness auth login" in store.warnings[0]
    store.put(entry(access_token="fresh-access-1"))
    assert json.loads(path.read_text())["version"] == 1


def test_default_store_honours_the_environment_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_TOKEN_STORE", str(tmp_path / "mine.json"))
    assert TokenStore.default().path == tmp_path / "mine.json"


def test_in_memory_store_never_touches_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = TokenStore.in_memory()
    store.put(entry(access_token="mem-access-1"))
    assert store.get(("drchrono", "client-1", TOKEN_URL)) is not None
    assert list(tmp_path.iterdir()) == []


def test_a_complete_temp_file_left_by_a_crash_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store = TokenStore(path)
    key = ("drchrono", "client-1", TOKEN_URL)
    store.put(
        entry(
            refresh_token="old-refresh-token",
            pending=PendingRefresh(
                started_at=1.0, refresh_token_sha256=fingerprint("old-refresh-token"), pid=1
            ),
        )
    )
    finished = {
        "version": 1,
        "tokens": {
            "drchrono | client-1 | " + TOKEN_URL: entry(
                access_token="new-access-token",
                refresh_token="new-refresh-token",
                rotated_from_sha256=fingerprint("old-refresh-token"),
            ).to_json()
        },
    }
    (tmp_path / ".tokens.json.99.abcd.tmp").write_text(json.dumps(finished))
    (tmp_path / ".tokens.json.98.ef01.tmp").write_text('{"vers')  # a torn one is ignored
    with store.locked():
        recovered = store.recover_interrupted(key)
    assert recovered is not None and recovered.refresh_token == "new-refresh-token"
    assert store.get(key).refresh_token == "new-refresh-token"  # type: ignore[union-attr]
    assert not list(tmp_path.glob("*.tmp"))


def test_writing_another_token_set_keeps_a_dead_writers_refresh_result(tmp_path: Path) -> None:
    """The store's writes keep temp files while a refresh is pending: one may be its result."""
    path = tmp_path / "tokens.json"
    store = TokenStore(path)
    key = ("drchrono", "client-1", TOKEN_URL)
    pending = PendingRefresh(
        started_at=1.0, refresh_token_sha256=fingerprint("old-refresh-token"), pid=4194303
    )
    store.put(entry(refresh_token="old-refresh-token", pending=pending))
    result = entry(
        access_token="new-access-token",
        refresh_token="new-refresh-token",
        rotated_from_sha256=fingerprint("old-refresh-token"),
    )
    document = {"version": 1, "tokens": {"drchrono | client-1 | " + TOKEN_URL: result.to_json()}}
    # Left by a writer (a process id no process has) killed before its rename.
    (tmp_path / ".tokens.json.4194303.abcd.tmp").write_text(json.dumps(document))
    store.put(entry(client_id="client-2", refresh_token="other"))  # another worker's token set
    with store.locked():
        recovered = store.recover_interrupted(key)
    assert recovered is not None and recovered.refresh_token == "new-refresh-token"
    assert store.get(("drchrono", "client-2", TOKEN_URL)) is not None


# -- the manager against a fake endpoint -------------------------------------------------------


def test_stored_rotated_token_beats_the_same_seed_but_a_new_seed_wins(tmp_path: Path) -> None:
    endpoint = FakeTokenEndpoint()
    store = TokenStore(tmp_path / "tokens.json")
    first = manager(store, endpoint, seed="seed-refresh-token-0")
    first.access_token()
    # A new process, same (now dead) seed in the environment: it must use the rotated token.
    store.put(entry(**{**store.all()[0].to_json(), "expires_at": time.time() - 1, "pending": None}))
    second = manager(store, endpoint, seed="seed-refresh-token-0")
    assert second.access_token() == "access-token-number-2"
    # The user authorized again and put a different refresh token in the environment.
    endpoint.live_refresh.add("reauthorized-refresh-token")
    third = manager(store, endpoint, seed="reauthorized-refresh-token")
    store.put(entry(**{**store.all()[0].to_json(), "expires_at": time.time() - 1, "pending": None}))
    assert third.access_token() == "access-token-number-3"
    assert "reauthorized-refresh-token" not in endpoint.live_refresh


def test_proactive_refresh_within_the_leeway(tmp_path: Path) -> None:
    now = [1_000_000.0]
    endpoint = FakeTokenEndpoint(expires_in=3600)
    tokens = manager(
        TokenStore.in_memory(), endpoint, seed="seed-refresh-token-0", clock=lambda: now[0]
    )
    first = tokens.access_token()
    assert tokens.access_token() == first and endpoint.requests == 1
    now[0] += 3600 - 301  # 301 s left: still outside the 300 s leeway
    assert tokens.access_token() == first
    now[0] += 2
    assert tokens.access_token() != first and endpoint.requests == 2


def test_short_lived_tokens_do_not_refresh_on_every_use() -> None:
    now = [5000.0]
    endpoint = FakeTokenEndpoint(expires_in=60)  # shorter than the 300 s leeway
    tokens = manager(
        TokenStore.in_memory(), endpoint, seed="seed-refresh-token-0", clock=lambda: now[0]
    )
    tokens.access_token()
    now[0] += 20
    tokens.access_token()
    assert endpoint.requests == 1


def test_threads_needing_a_refresh_share_one_request(tmp_path: Path) -> None:
    endpoint = FakeTokenEndpoint()
    endpoint.delay_s = 0.05
    store = TokenStore(tmp_path / "tokens.json")
    store.put(
        entry(
            access_token="expired-access-1",
            expires_at=time.time() - 5,
            refresh_token="seed-refresh-token-0",
            obtained_at=time.time() - 100,
        )
    )
    tokens = manager(store, endpoint, seed=None)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(tokens.access_token())) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["access-token-number-1"] * 8
    assert endpoint.requests == 1


def test_reactive_refresh_happens_once_per_rejected_token() -> None:
    endpoint = FakeTokenEndpoint()
    tokens = manager(TokenStore.in_memory(), endpoint, seed="seed-refresh-token-0")
    rejected = tokens.access_token()
    renewed = tokens.refresh_after_401(rejected)
    assert renewed != rejected
    assert tokens.refresh_after_401(rejected) == renewed  # a second worker saw the same 401
    assert endpoint.requests == 2
    with pytest.raises(AuthError, match="had just issued"):
        tokens.refresh_after_401(renewed)  # refreshing in a loop would not help


def test_no_refresh_token_anywhere_asks_for_login() -> None:
    tokens = manager(TokenStore.in_memory(), FakeTokenEndpoint(), seed=None)
    with pytest.raises(AuthError) as err:
        tokens.access_token()
    assert "harness auth login" in str(err.value)
    assert "DRCHRONO_REFRESH_TOKEN" in str(err.value)


def test_status_never_contains_a_token() -> None:
    endpoint = FakeTokenEndpoint()
    secrets = SecretRegistry()
    tokens = manager(TokenStore.in_memory(), endpoint, seed="seed-refresh-token-0", secrets=secrets)
    tokens.access_token()
    status = tokens.status()
    assert status["scopes"] == ["patients:read"] and status["has_access_token"]
    assert secrets.find_in(json.dumps(status)) == []


def test_a_server_that_does_not_rotate_keeps_the_old_refresh_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "no-rotation-access", "expires_in": 10})

    store = TokenStore.in_memory()
    tokens = TokenManager(
        settings(),
        store=store,
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        secrets=SecretRegistry(),
        refresh_token="kept-refresh-token",
    )
    tokens.access_token()
    assert store.all()[0].refresh_token == "kept-refresh-token"


def test_non_https_token_url_is_refused_before_sending() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    bad = OAuth2Settings(
        grant_type=settings().grant_type,
        access_token_url="http://drchrono.example/o/token/",
        client_id="client-1",
        client_secret="client-secret-1",
    )
    tokens = TokenManager(
        bad,
        store=TokenStore.in_memory(),
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        secrets=SecretRegistry(),
        refresh_token="some-refresh-token",
    )
    with pytest.raises(AuthError, match="not HTTPS"):
        tokens.access_token()
    assert sent == []
