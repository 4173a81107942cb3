"""How a run's requests travel: the base transport, DrChrono's hosts mapped to the sandbox,
cassettes (recording or replaying, with the one scrubber of the run), a client and a sender per
unit, and the client-side rate limit.

Collections exported from Postman often hard-code ``https://drchrono.com/o/token/`` and
``https://app.drchrono.com/api/...`` rather than using variables. When the target is the sandbox,
:class:`HostMappingTransport` rewrites those origins, so such a collection runs against the
sandbox unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import ssl
import threading
from collections.abc import Iterable, Mapping
from http.cookiejar import CookieJar
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from harness.errors import InputError
from harness.naming import slug
from harness.oauth_attributes import DRCHRONO_HOSTS
from harness.ratelimit import ClientRateLimiter
from harness.redaction import SecretRegistry
from harness.sender import STRICT_SSL_EXTENSION, RetryPolicy, RunPace, Sender
from harness.session.options import RunOptions, TlsOptions

if TYPE_CHECKING:
    from harness.cassettes import Scrubber

SANDBOX_ORIGIN = "http://drchrono-sandbox"
# Long enough for any sensible name; a longer one is cut and made unique with a digest, so that
# a 10 000-character folder name is not an OS error ("File name too long").
MAX_CASSETTE_STEM = 80
# The system headers postman-runtime adds to every request a user has not set them on
# (lib/requester/core.js addSystemHeaders): httpx already sends Accept: */* and Connection:
# keep-alive; Newman also sends Cache-Control: no-cache and offers br (decoded by `brotli`).
# User-Agent and Postman-Token name the client and stay the harness's own.
NEWMAN_SYSTEM_HEADERS = {"Cache-Control": "no-cache", "Accept-Encoding": "gzip, deflate, br"}


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


class Transports:
    """Clients and senders of one session; everything they open closes with the session."""

    def __init__(
        self,
        options: RunOptions,
        stack: contextlib.ExitStack,
        *,
        secrets: SecretRegistry,
        group_dir: Path,
        sandbox_url: str | None,
        rate_limit: str,
        pace: RunPace | None = None,
    ) -> None:
        self.options = options
        self.pace = pace
        self.stack = stack
        self.secrets = secrets
        self.group_dir = group_dir
        self.sandbox_url = sandbox_url
        self.rate_limiter = ClientRateLimiter.parse(rate_limit)
        self._base: httpx.BaseTransport = _StrictSSLChoice(options.tls)
        if sandbox_url is not None:
            # Collections that hard-code DrChrono's hosts reach the sandbox too.
            self._base = HostMappingTransport(
                self._base, {host: sandbox_url for host in DRCHRONO_HOSTS}
            )
        self._senders: dict[tuple[str, bool], Sender] = {}
        # One cookie jar for the run's requests, whichever folder's client sends them: Newman
        # keeps one jar per run (newman lib/run/index.js: one request.jar() for the runner).
        self.cookie_jar = CookieJar()
        self._cassette_owners: dict[str, tuple[str, bool]] = {}
        self._lock = threading.Lock()
        self._scrubber: Scrubber | None = None

    @property
    def uses_cassettes(self) -> bool:
        return self.options.record_mode is not None or self.options.replay

    # --- cassettes -------------------------------------------------------------------------

    def cassette_path(self, name: str, *, internal: bool = False) -> Path:
        """The cassette of unit ``name`` (a folder or scenario run): a file in the group directory.

        Two different names that map to the same file are refused: sharing one cassette would
        mix their recordings, and one would overwrite the other.
        """
        stem = name if internal else cassette_stem(name)
        owner = (name, internal)
        path = inside(self.group_dir, f"{stem}.yaml")
        with self._lock:
            earlier = self._cassette_owners.setdefault(stem, owner)
        if earlier != owner:
            raise InputError(
                f"'{name}' and '{earlier[0]}' would share the cassette {path}: names are "
                "recorded as lowercase letters, digits and '-'.",
                hint="Rename one of them so that they differ in more than case, spaces and "
                "punctuation.",
            )
        return path

    def check_cassette_names(self, names: Iterable[str]) -> None:
        """Refuse clashing cassette names before anything is sent (only when cassettes are used)."""
        if self.uses_cassettes:
            for name in names:
                self.cassette_path(name)

    @property
    def scrubber(self) -> Scrubber:
        """The run's one scrubber (cassettes, and pytest-recording's when the plugin asks)."""
        with self._lock:
            if self._scrubber is None:
                from harness.cassettes import Scrubber

                # The sandbox's random port would change every recorded URL: a stable origin.
                origins = {self.sandbox_url: SANDBOX_ORIGIN} if self.sandbox_url else None
                self._scrubber = Scrubber(secrets=self.secrets, origins=origins)
            return self._scrubber

    # --- clients and senders ---------------------------------------------------------------

    def _transport(self, cassette_name: str, *, internal: bool) -> httpx.BaseTransport:
        if not self.uses_cassettes:
            return self._base
        from harness.cassettes import CassetteTransport, RecordMode

        mode = RecordMode.NONE if self.options.replay else RecordMode(self.options.record_mode)
        if internal and mode in (RecordMode.ONCE, RecordMode.NEW_EPISODES):
            # A recorded token is a stand-in that live DrChrono or a fresh sandbox refuses:
            # token traffic is never replayed into a recording run. It is recorded afresh, and
            # replaces the token exchanges an earlier recording kept (VCR's "all").
            mode = RecordMode.ALL
        # Unit cassettes are named after their folder; token traffic has its own "_oauth" file.
        path = self.cassette_path(cassette_name, internal=internal)
        transport = CassetteTransport(path, mode=mode, inner=self._base, scrubber=self.scrubber)
        self.stack.callback(transport.close)
        return transport

    def client(self, cassette_name: str, *, internal: bool = False) -> httpx.Client:
        client = httpx.Client(
            transport=self._transport(cassette_name, internal=internal),
            timeout=httpx.Timeout(self.options.timeout_request),
            follow_redirects=True,
            headers=NEWMAN_SYSTEM_HEADERS,
            # The harness's own token traffic keeps its cookies to itself.
            cookies=None if internal else self.cookie_jar,
        )
        self.stack.callback(client.close)
        return client

    def internal_client(self, cassette_name: str) -> httpx.Client:
        """The client of the harness's own traffic (token requests): its cassette keeps its
        ``_name``. Never for a name that came from a collection or scenario."""
        return self.sender_for(cassette_name, internal=True).client

    def sender_for(self, unit: str, *, internal: bool = False) -> Sender:
        """The sender of unit ``unit`` (one client, so one cassette, per unit)."""
        key = (unit, internal)
        sender = self._senders.get(key)
        if sender is None:
            sender = Sender(
                self.client(unit, internal=internal),
                policy=RetryPolicy(retries=self.options.retries),
                limiter=self.rate_limiter,
                # The harness's own token traffic is not one of the run's requests: no delay.
                pace=None if internal else self.pace,
                follow_redirects=self.options.follow_redirects,
            )
            self._senders[key] = sender
        return sender


class _StrictSSLChoice(httpx.BaseTransport):
    """Verifies certificates, except with ``-k`` or for a request whose collection sets
    ``protocolProfileBehavior.strictSSL`` false (the sender marks it); a request's own
    ``strictSSL`` beats ``-k``, as in postman-runtime. Both ways present the client certificate."""

    def __init__(self, tls: TlsOptions) -> None:
        self._tls = tls
        self._transports: dict[bool, httpx.HTTPTransport] = {}  # strict? -> its transport
        self._lock = threading.Lock()
        # The run's usual transport is made now, so that an unusable certificate or key file is
        # refused before anything is sent; the other one (an SSL context each) on first use.
        self._transport(not tls.insecure)

    def _transport(self, strict: bool) -> httpx.HTTPTransport:
        with self._lock:
            transport = self._transports.get(strict)
            if transport is None:
                transport = httpx.HTTPTransport(
                    retries=0, verify=tls_context(self._tls, verify=strict)
                )
                self._transports[strict] = transport
            return transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        strict_ssl = request.extensions.get(STRICT_SSL_EXTENSION)
        strict = not self._tls.insecure if strict_ssl is None else bool(strict_ssl)
        return self._transport(strict).handle_request(request)

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()


def tls_context(tls: TlsOptions, *, verify: bool) -> ssl.SSLContext:
    """The SSL context of a run: the system's CAs (certifi's, as httpx's default) plus
    ``--ssl-extra-ca-certs``, the client certificate of ``--ssl-client-*``; with ``verify``
    False, no certificate checks. A file that cannot be used is bad input (exit 2)."""
    import certifi

    context = ssl.create_default_context(cafile=certifi.where())
    if tls.extra_ca_certs is not None:
        try:
            context.load_verify_locations(cafile=tls.extra_ca_certs)
        except (OSError, ssl.SSLError) as exc:
            raise InputError(
                f"--ssl-extra-ca-certs {tls.extra_ca_certs}: cannot read CA certificates "
                f"from it ({_reason(exc)}).",
                hint="Give a PEM file holding one or more '-----BEGIN CERTIFICATE-----' blocks.",
            ) from None
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.client_key is not None and tls.client_cert is None:
        raise InputError(
            f"--ssl-client-key {tls.client_key} was given without --ssl-client-cert.",
            hint="Give the certificate the key belongs to with --ssl-client-cert FILE.",
        )
    if tls.client_cert is not None:
        try:
            context.load_cert_chain(tls.client_cert, tls.client_key, password=tls.client_passphrase)
        except (OSError, ssl.SSLError, ValueError) as exc:
            what = f"--ssl-client-cert {tls.client_cert}" + (
                f" with --ssl-client-key {tls.client_key}" if tls.client_key else ""
            )
            why = _reason(exc)
            if isinstance(exc, ssl.SSLError):  # OpenSSL says little more than "PEM lib"
                why = (
                    "a wrong or missing passphrase, a key that is not the certificate's, or a "
                    f"file that is not PEM: {why}"
                )
            raise InputError(
                f"{what}: cannot use the client certificate ({why}).",
                hint="Give PEM files: the certificate, and its private key (in the same file "
                "or with --ssl-client-key); an encrypted key needs --ssl-client-passphrase. "
                "A .pfx/.p12 file must be converted to PEM first (openssl pkcs12 -nodes).",
            ) from None
    return context


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def cassette_stem(name: str) -> str:
    """A file stem for user text: ``Patient registration [1]`` -> ``patient-registration-1``.

    Only ``[a-z0-9-]``, so it is one plain file name (no ``/``, ``..`` or leading ``_``).
    """
    stem = slug(name)
    if len(stem) > MAX_CASSETTE_STEM:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        stem = f"{stem[:MAX_CASSETTE_STEM].rstrip('-')}-{digest}"
    return stem


def inside(directory: Path, name: str) -> Path:
    """``directory / name``, refused unless it resolves to a file inside ``directory``."""
    path = directory / name
    if path.resolve().parent != directory.resolve():
        raise InputError(
            f"{name!r} does not name a file directly inside {directory}.",
            hint="Use a plain file name (no '/', '..' or symbolic link out of the directory).",
        )
    return path
