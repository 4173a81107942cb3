"""TLS on `harness run` (issue #14): Newman's -k/--insecure, --ssl-extra-ca-certs and
--ssl-client-cert/--ssl-client-key/--ssl-client-passphrase, and failures that name the
certificate problem, say what to do, and are not retried as connection errors.

Local HTTPS servers on 127.0.0.1 (started once for the module) with certificates made here with
`cryptography`: a test CA, a server certificate it signed, an expired one, one for another host
name, a self-signed one, and a server that asks for a client certificate (mutual TLS).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness import cli

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)
KEY_PASSPHRASE = "client-key-passphrase"


@dataclass
class Pki:
    dir: Path
    ca_key: ec.EllipticCurvePrivateKey
    ca_cert: x509.Certificate

    def write(self, name: str, data: bytes) -> Path:
        path = self.dir / name
        path.write_bytes(data)
        return path

    def issue(
        self,
        name: str,
        *,
        hosts: tuple[str, ...] = ("127.0.0.1",),
        expired: bool = False,
        self_signed: bool = False,
        client: bool = False,
        passphrase: str | None = None,
    ) -> tuple[Path, Path]:
        """A certificate and key (PEM files) for ``hosts`` (or a client), signed by the CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        issuer = subject if self_signed else self.ca_cert.subject
        not_after = NOW - DAY if expired else NOW + DAY
        sans: list[x509.GeneralName] = []
        for host in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                sans.append(x509.DNSName(host))
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - 2 * DAY)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]
                ),
                critical=False,
            )
        )
        cert = builder.sign(key if self_signed else self.ca_key, hashes.SHA256())
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode())
            if passphrase
            else serialization.NoEncryption()
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        return (
            self.write(f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM)),
            self.write(f"{name}.key", key_pem),
        )


def make_pki(directory: Path) -> Pki:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harness test CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - 2 * DAY)
        .not_valid_after(NOW + DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    pki = Pki(directory, key, cert)
    pki.write("ca.pem", cert.public_bytes(serialization.Encoding.PEM))
    return pki


@dataclass
class Servers:
    pki: Pki
    urls: dict[str, str] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)  # requests each server answered
    handshakes: dict[str, int] = field(default_factory=dict)  # TLS connections each accepted
    client_cert: Path | None = None
    client_key: Path | None = None

    @property
    def ca(self) -> Path:
        return self.pki.dir / "ca.pem"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    state = Servers(pki)
    state.client_cert, state.client_key = pki.issue(
        "client", client=True, passphrase=KEY_PASSPHRASE
    )
    kinds = {
        "good": pki.issue("good"),
        "expired": pki.issue("expired", expired=True),
        "mismatch": pki.issue("mismatch", hosts=("other.example",)),
        "selfsigned": pki.issue("selfsigned", self_signed=True),
        "mtls": pki.issue("mtls"),
    }
    started: list[ThreadingHTTPServer] = []
    for kind, (cert, key) in kinds.items():
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        if kind == "mtls":
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(state.ca)

        def handler(kind: str = kind) -> type[BaseHTTPRequestHandler]:
            class Handler(BaseHTTPRequestHandler):
                def do_GET(self) -> None:
                    state.hits[kind] = state.hits.get(kind, 0) + 1
                    peer = self.connection.getpeercert() if kind == "mtls" else None
                    subject = dict(x[0] for x in peer["subject"]) if peer else {}
                    payload = json.dumps({"kind": kind, "client": subject.get("commonName")})
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload.encode())

                def log_message(self, *args: object) -> None:
                    pass

            return Handler

        class TlsServer(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self, kind: str = kind, context: ssl.SSLContext = context) -> Any:
                sock, address = self.socket.accept()
                state.handshakes[kind] = state.handshakes.get(kind, 0) + 1
                return context.wrap_socket(sock, server_side=True), address

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # refused handshakes are what these tests are about

        server = TlsServer(("127.0.0.1", 0), handler())
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        started.append(server)
        state.urls[kind] = f"https://127.0.0.1:{server.server_address[1]}"
    yield state
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    report: dict[str, Any]

    @property
    def result(self) -> dict[str, Any]:
        results: list[dict[str, Any]] = self.report["results"]
        return results[0]


def run(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    url: str,
    *extra: str,
    item_extra: dict[str, Any] | None = None,
) -> Run:
    item = {"name": "Call", "request": {"method": "GET", "url": url + "/hello"}}
    item.update(item_extra or {})
    collection = tmp_path / "c.postman_collection.json"
    collection.write_text(json.dumps({"info": {"name": "tls", "schema": V21}, "item": [item]}))
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"values": []}))
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    code = cli.main(
        [
            "run",
            str(collection),
            "-e",
            str(env),
            "--no-contracts",
            "--retries",
            "2",
            "--json",
            str(report),
            *extra,
        ]
    )
    out = capsys.readouterr()
    data = json.loads(report.read_text()) if report.exists() else {}
    return Run(code, out.out, out.err, data)


def test_extra_ca_certs_trust_a_private_ca(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], servers: Servers
) -> None:
    done = run(tmp_path, capsys, servers.urls["good"], "--ssl-extra-ca-certs", str(servers.ca))
    assert done.code == 0, done.stdout
    assert done.result["status"] == 200


def test_an_unknown_ca_is_named_with_what_to_do_and_not_retried(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], servers: Servers
) -> None:
    before = servers.handshakes.get("good", 0)
    done = run(tmp_path, capsys, servers.urls["good"])
    assert done.code == 1
    message = done.result["message"]
    assert "signed by an unknown CA" in message
    assert "--ssl-extra-ca-certs" in message and "-k/--insecure" in message
    assert len(done.result["attempts"]) == 1  # --retries 2, yet one attempt: not retried
    assert servers.handshakes["good"] - before == 1
    assert "signed by an unknown CA" in done.stdout


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("expired", "the server's certificate has expired"),
        ("mismatch", "for another address"),
        ("selfsigned", "self-signed"),
    ],
)
def test_each_certificate_problem_is_named(
    kind: str,
    problem: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    servers: Servers,
) -> None:
    done = run(tmp_path, capsys, servers.urls[kind], "--ssl-extra-ca-certs", str(servers.ca))
    assert done.code == 1
    assert problem in done.result["message"], done.result["message"]
    assert done.result["message"].startswith("TLS: ")
    assert len(done.result["attempts"]) == 1


def test_insecure_skips_checks_unless_the_request_wants_strict_ssl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], servers: Servers
) -> None:
    done = run(tmp_path, capsys, servers.urls["selfsigned"], "-k")
    assert done.code == 0 and done.result["status"] == 200
    strict = {"protocolProfileBehavior": {"strictSSL": True}}
    refused = run(tmp_path, capsys, servers.urls["selfsigned"], "-k", item_extra=strict)
    assert refused.code == 1 and "self-signed" in refused.result["message"]


def test_client_certificate_for_mutual_tls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], servers: Servers
) -> None:
    assert servers.client_cert is not None and servers.client_key is not None
    trust = ("--ssl-extra-ca-certs", str(servers.ca))
    done = run(
        tmp_path,
        capsys,
        servers.urls["mtls"],
        *trust,
        "--ssl-client-cert",
        str(servers.client_cert),
        "--ssl-client-key",
        str(servers.client_key),
        "--ssl-client-passphrase",
        KEY_PASSPHRASE,
        "-v",
    )
    assert done.code == 0, done.stdout
    assert '"client": "client"' in done.stdout  # the server saw our certificate
    assert KEY_PASSPHRASE not in done.stdout + json.dumps(done.report)
    without = run(tmp_path, capsys, servers.urls["mtls"], *trust)
    assert without.code == 1
    assert "--ssl-client-cert" in without.result["message"]


def test_unusable_certificate_files_are_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], servers: Servers
) -> None:
    assert servers.client_cert is not None and servers.client_key is not None
    url = servers.urls["mtls"]
    wrong = run(
        tmp_path,
        capsys,
        url,
        "--ssl-client-cert",
        str(servers.client_cert),
        "--ssl-client-key",
        str(servers.client_key),
        "--ssl-client-passphrase",
        "wrong",
    )
    assert wrong.code == 2
    assert "cannot use the client certificate" in wrong.stderr and "--ssl-client-passphrase" in (
        wrong.stderr
    )
    assert "wrong" not in wrong.stderr.split("(")[0]
    missing = run(tmp_path, capsys, url, "--ssl-extra-ca-certs", str(tmp_path / "none.pem"))
    assert missing.code == 2 and "--ssl-extra-ca-certs" in missing.stderr
    key_only = run(tmp_path, capsys, url, "--ssl-client-key", str(servers.client_key))
    assert key_only.code == 2 and "without --ssl-client-cert" in key_only.stderr
