"""Request auth types on the wire: what each Postman auth type puts on a request.

Expected values come from the specifications' published examples or from an independent
computation written here from the spec, never from the code under test. Challenge flows (digest,
NTLM) run against a real server on 127.0.0.1; single-shot signers use httpx.MockTransport.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.build import build_request
from harness.collection import load_collection
from harness.redaction import SecretRegistry
from harness.request_auth import RequestAuth, RequestAuthError, auth_for
from harness.variables import Resolver, Scopes
from tests.conftest import run_cli
from tests.local_server import local_server, serving

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def send(auth: RequestAuth, method: str, url: str, **kwargs: Any) -> httpx.Request:
    """Send through a mock transport; return the request as it reached the wire."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        client.request(method, url, auth=auth, **kwargs)
    return seen[-1]


# --- OAuth 1.0 ----------------------------------------------------------------------------------

# RFC 5849 section 1.2: the photos.example.net request and its HMAC-SHA1 signature.
RFC5849 = {
    "consumerKey": "dpf43f3p2l4k3l03",
    "consumerSecret": "kd94hf93k423kf44",
    "token": "nnch734d00sl2jdk",
    "tokenSecret": "pfkkdhi9sl3r4s00",
    "nonce": "kllo9940pd9333jh",
    "timestamp": "1191242096",
    "signatureMethod": "HMAC-SHA1",
    "version": "1.0",
}
RFC5849_URL = "http://photos.example.net/photos?file=vacation.jpg&size=original"
RFC5849_SIGNATURE = "tR3+Ty81lMeYAr/Fid0kMTYa/WM="


def test_oauth1_header_matches_rfc5849_example_in_postman_layout() -> None:
    auth = auth_for("oauth1", {**RFC5849, "addParamsToHeader": True, "realm": "Photos"}, "r")
    sent = send(auth, "GET", RFC5849_URL)
    # postman-runtime (node-oauth1 getAuthorizationHeader; its unit test pins the key order):
    # realm first, then its parameter order, comma-separated, values percent-encoded.
    assert sent.headers["Authorization"] == (
        'OAuth realm="Photos",oauth_consumer_key="dpf43f3p2l4k3l03",'
        'oauth_token="nnch734d00sl2jdk",oauth_signature_method="HMAC-SHA1",'
        'oauth_timestamp="1191242096",oauth_nonce="kllo9940pd9333jh",oauth_version="1.0",'
        'oauth_signature="tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D"'
    )
    assert str(sent.url) == RFC5849_URL


def test_oauth1_defaults_to_query_params_and_drops_empty_ones() -> None:
    params = {**RFC5849, "token": "", "tokenSecret": "", "version": ""}
    sent = send(auth_for("oauth1", params, "r"), "GET", "http://example.com/a?x=1")
    query = dict(sent.url.params)
    assert "Authorization" not in sent.headers
    assert "oauth_token" not in query and "oauth_version" not in query  # empty: not signed
    # RFC 5849 3.4.1/3.4.2, computed here: the base string and HMAC-SHA1 with "secret&".
    base = (
        "GET&http%3A%2F%2Fexample.com%2Fa&oauth_consumer_key%3Ddpf43f3p2l4k3l03"
        "%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1"
        "%26oauth_timestamp%3D1191242096%26x%3D1"
    )
    mac = hmac.new(b"kd94hf93k423kf44&", base.encode(), hashlib.sha1).digest()
    assert query["oauth_signature"] == base64.b64encode(mac).decode()
    assert query["x"] == "1"


def test_oauth1_form_post_signs_and_carries_the_params_in_the_body() -> None:
    params = {**RFC5849, "signatureMethod": "HMAC-SHA256"}
    sent = send(
        auth_for("oauth1", params, "r"),
        "POST",
        "http://example.com/a",
        content=b"b=2",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    body = dict(httpx.QueryParams(sent.content.decode()))
    assert body["b"] == "2" and body["oauth_signature_method"] == "HMAC-SHA256"
    base = (
        "POST&http%3A%2F%2Fexample.com%2Fa&b%3D2%26oauth_consumer_key%3Ddpf43f3p2l4k3l03"
        "%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA256"
        "%26oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0"
    )
    key = b"kd94hf93k423kf44&pfkkdhi9sl3r4s00"
    expected = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()
    assert body["oauth_signature"] == expected
    assert sent.headers["Content-Length"] == str(len(sent.content))


def test_oauth1_body_hash_uses_the_signature_hash() -> None:
    params = {**RFC5849, "includeBodyHash": True, "addParamsToHeader": True}
    sent = send(auth_for("oauth1", params, "r"), "POST", "http://example.com/", content=b"{}")
    expected = base64.b64encode(hashlib.sha1(b"{}").digest()).decode()
    assert f'oauth_body_hash="{expected.replace("=", "%3D")}"' in sent.headers["Authorization"]


# --- Hawk, JWT ----------------------------------------------------------------------------------


def test_hawk_header_matches_the_hawk_readme_example() -> None:
    params = {
        "authId": "dh37fgj492je",
        "authKey": "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn",
        "algorithm": "sha256",
        "nonce": "j4h3g2",
        "timestamp": "1353832234",
        "extraData": "some-app-ext-data",
    }
    sent = send(auth_for("hawk", params, "r"), "GET", "http://example.com:8000/resource/1?b=1&a=2")
    # The request-header example of the Hawk specification (hueniverse/hawk README).
    assert sent.headers["Authorization"] == (
        'Hawk mac="6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE=", id="dh37fgj492je", '
        'ts="1353832234", nonce="j4h3g2", ext="some-app-ext-data"'
    )


JWT_PARAMS = {
    "algorithm": "HS256",
    "secret": "your-256-bit-secret",
    "header": '{"alg":"HS256","typ":"JWT"}',
    "payload": '{"sub":"1234567890","name":"John Doe","iat":1516239022}',
}
# The HS256 example token of RFC 7519's companion site (jwt.io) for exactly these inputs.
JWT_EXAMPLE = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0"
    "IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


def test_jwt_in_header_with_postman_default_prefix() -> None:
    sent = send(auth_for("jwt", JWT_PARAMS, "r"), "GET", "http://example.com/")
    assert sent.headers["Authorization"] == f"Bearer {JWT_EXAMPLE}"


def test_jwt_in_query_param_and_base64_secret() -> None:
    params = {
        **JWT_PARAMS,
        "secret": base64.b64encode(b"your-256-bit-secret").decode(),
        "isSecretBase64Encoded": True,
        "addTokenTo": "queryParam",
        "queryParamKey": "jwt",
    }
    sent = send(auth_for("jwt", params, "r"), "GET", "http://example.com/?jwt=old&a=1")
    assert sent.url.params.get_list("jwt") == [JWT_EXAMPLE] and sent.url.params["a"] == "1"
    assert "Authorization" not in sent.headers


def test_jwt_adds_no_claims_and_sets_alg_in_the_given_header() -> None:
    params = {"algorithm": "HS512", "secret": "k" * 64, "header": '{"kid":"a"}', "payload": ""}
    token = send(auth_for("jwt", params, "r"), "GET", "http://x/").headers["Authorization"][7:]
    header, payload, _ = token.split(".")
    assert base64.urlsafe_b64decode(header + "==") == b'{"kid":"a","alg":"HS512"}'
    assert base64.urlsafe_b64decode(payload + "==") == b"{}"


def test_asap_token_carries_postman_claims_and_verifies() -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    params = {
        "kid": "svc/key1",
        "iss": "svc",
        "aud": "api",
        "privateKey": pem.replace("\n", ""),  # Postman's one-line text field loses line breaks
        "claims": '{"jti":"fixed-id","iat":1700000000,"exp":1700000060,"scope":"read"}',
    }
    sent = send(auth_for("asap", params, "r"), "GET", "http://example.com/")
    scheme, token = sent.headers["Authorization"].split(" ")
    header, payload, signature = token.split(".")
    assert scheme == "Bearer"
    # postman-runtime asap.js: header {alg (RS256 default), kid}; claims as given, then
    # iat, iss, sub (falls back to iss), jti, aud, exp set by jose's SignJWT.
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {
        "alg": "RS256",
        "kid": "svc/key1",
    }
    assert base64.urlsafe_b64decode(payload + "==") == (
        b'{"jti":"fixed-id","iat":1700000000,"exp":1700000060,"scope":"read",'
        b'"iss":"svc","sub":"svc","aud":"api"}'
    )
    private.public_key().verify(
        base64.urlsafe_b64decode(signature + "=="),
        f"{header}.{payload}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


# The EdgeGrid client test suite shared by Akamai's libraries (testdata.json / testcases.json).
EDGEGRID = {
    "clientToken": "akab-client-token-xxx-xxxxxxxxxxxxxxxx",
    "accessToken": "akab-access-token-xxx-xxxxxxxxxxxxxxxx",
    "clientSecret": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=",
    "nonce": "nonce-xx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "timestamp": "20140321T19:34:21+0000",
    "headersToSign": "X-Test1,X-Test2,X-Test3",
    "maxBodySize": "2048",
}
EDGEGRID_HOST = "https://akaa-baseurl-xxxxxxxxxxx-xxxxxxxxxxxxx.luna.akamaiapis.net"
EDGEGRID_PREFIX = (
    "EG1-HMAC-SHA256 client_token=akab-client-token-xxx-xxxxxxxxxxxxxxxx;"
    "access_token=akab-access-token-xxx-xxxxxxxxxxxxxxxx;timestamp=20140321T19:34:21+0000;"
    "nonce=nonce-xx-xxxx-xxxx-xxxx-xxxxxxxxxxxx;signature="
)


@pytest.mark.parametrize(
    ("method", "path", "body", "signature"),
    [
        ("GET", "/testapi/v1/t1?p1=1&p2=2", b"", "hKDH1UlnQySSHjvIcZpDMbQHihTQ0XyVAKZaApabdeA="),
        (
            "POST",
            "/testapi/v1/t3",
            b"datadatadatadatadatadatadatadata",
            "hXm4iCxtpN22m4cbZb4lVLW5rhX8Ca82vCFqXzSTPe4=",
        ),
    ],
)
def test_edgegrid_matches_the_edgegrid_test_suite(
    method: str, path: str, body: bytes, signature: str
) -> None:
    sent = send(auth_for("edgegrid", EDGEGRID, "r"), method, EDGEGRID_HOST + path, content=body)
    assert sent.headers["Authorization"] == EDGEGRID_PREFIX + signature


def test_edgegrid_signs_the_base_url_host() -> None:
    # postman-runtime signs the baseURL host (and the request scheme): the vector, sent elsewhere.
    params = {**EDGEGRID, "baseURL": EDGEGRID_HOST}
    sent = send(
        auth_for("edgegrid", params, "r"), "GET", "https://127.0.0.1/testapi/v1/t1?p1=1&p2=2"
    )
    assert sent.headers["Authorization"].endswith("hKDH1UlnQySSHjvIcZpDMbQHihTQ0XyVAKZaApabdeA=")


# --- AWS Signature Version 4 ----------------------------------------------------------------------


def _sigv4_reference(
    request: httpx.Request, secret: str, region: str, service: str, signed: list[str]
) -> str:
    """AWS SigV4 as the AWS General Reference describes it, for a request with a simple path."""
    amz_date = request.headers["x-amz-date"]
    canonical = "\n".join(
        [
            request.method,
            request.url.path,
            "&".join(f"{k}={v}" for k, v in sorted(request.url.params.multi_items())),
            "".join(f"{h}:{request.headers[h].strip()}\n" for h in signed),
            ";".join(signed),
            hashlib.sha256(request.content).hexdigest(),
        ]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_awsv4_signs_body_and_request_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx_auth._aws as aws

    fixed = datetime.datetime(2015, 8, 30, 12, 36, tzinfo=datetime.UTC)

    class FrozenClock(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> FrozenClock:
            return cls.fromtimestamp(fixed.timestamp(), tz)

    monkeypatch.setattr(aws.datetime, "datetime", FrozenClock)
    params = {
        "accessKey": "AKIDEXAMPLE",
        "secretKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "sessionToken": "session-token-value",
        "region": "",  # postman-runtime defaults: us-east-1, execute-api
        "service": "",
    }
    auth = auth_for("awsv4", params, "r", header_names=["X-Custom", "Content-Type"])
    sent = send(
        auth,
        "POST",
        "https://example.amazonaws.com/prod/items?b=2&a=1",
        content=b'{"k":1}',
        headers={"X-Custom": "v", "Content-Type": "application/json"},
    )
    assert sent.headers["X-Amz-Date"] == "20150830T123600Z"
    assert sent.headers["X-Amz-Security-Token"] == "session-token-value"
    # postman-runtime sends the hex SHA-256 of the body in X-Amz-Content-Sha256.
    assert sent.headers["X-Amz-Content-Sha256"] == hashlib.sha256(b'{"k":1}').hexdigest()
    signed = [
        "content-type",
        "host",
        "x-amz-content-sha256",
        "x-amz-date",
        "x-amz-security-token",
        "x-custom",
    ]
    signature = _sigv4_reference(sent, params["secretKey"], "us-east-1", "execute-api", signed)
    assert sent.headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request, "
        f"SignedHeaders={';'.join(signed)}, Signature={signature}"
    )


# --- Digest and NTLM against a real server ------------------------------------------------------

DIGEST_NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
NTLM_USER, NTLM_DOMAIN, NTLM_PASSWORD = "alice", "CORP", "Passw0rd!"


class ChallengeServer(BaseHTTPRequestHandler):
    """Digest (RFC 7616, MD5, qop=auth) on /digest and NTLM (via pyspnego) on /ntlm."""

    protocol_version = "HTTP/1.1"  # keep-alive: NTLM authenticates the connection
    authorizations: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        header = self.headers.get("Authorization", "")
        self.authorizations.append(header)
        if self.path == "/digest":
            if header.startswith("Digest ") and self._digest_valid(header[7:]):
                return self._answer(200)
            return self._answer(
                401, f'Digest realm="tests", qop="auth", nonce="{DIGEST_NONCE}", algorithm=MD5'
            )
        import spnego

        if not header.startswith("NTLM "):
            self.ntlm = spnego.server(protocol="ntlm")
            return self._answer(401, "NTLM")
        token = self.ntlm.step(base64.b64decode(header[5:]))
        if token:
            return self._answer(401, "NTLM " + base64.b64encode(token).decode())
        return self._answer(200 if self.ntlm.complete else 403)

    def _digest_valid(self, fields_text: str) -> bool:
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', fields_text))
        ha1 = hashlib.md5(f"{fields['username']}:tests:pw-secret".encode()).hexdigest()
        ha2 = hashlib.md5(f"GET:{fields['uri']}".encode()).hexdigest()
        parts = [ha1, DIGEST_NONCE, fields["nc"], fields["cnonce"], "auth", ha2]
        expected = hashlib.md5(":".join(parts).encode()).hexdigest()
        return fields["response"] == expected and fields["uri"] == "/digest"

    def _answer(self, status: int, challenge: str | None = None) -> None:
        self.send_response(status)
        if challenge:
            self.send_header("WWW-Authenticate", challenge)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def challenge_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, list[str]]]:
    users = tmp_path / "ntlm-users"
    users.write_text(f"{NTLM_DOMAIN}:{NTLM_USER}:{NTLM_PASSWORD}\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))  # pyspnego's server-side credential store
    seen: list[str] = []
    handler = type("Handler", (ChallengeServer,), {"authorizations": seen})
    with serving(local_server(handler)) as url:
        yield url, seen


def test_digest_answers_the_server_challenge(challenge_server: tuple[str, list[str]]) -> None:
    base, seen = challenge_server
    auth = auth_for("digest", {"username": "bob", "password": "pw-secret"}, "r")
    with httpx.Client() as client:
        assert client.get(base + "/digest", auth=auth).status_code == 200
    # postman-runtime: first unsigned, then signed with the challenge's realm/nonce/qop.
    assert seen[0] == ""
    assert 'username="bob"' in seen[1] and f'nonce="{DIGEST_NONCE}"' in seen[1]
    assert "qop=auth" in seen[1] and "nc=00000001" in seen[1]


def test_digest_wrong_password_is_the_servers_401(challenge_server: tuple[str, list[str]]) -> None:
    base, _ = challenge_server
    auth = auth_for("digest", {"username": "bob", "password": "nope"}, "r")
    with httpx.Client() as client:
        assert client.get(base + "/digest", auth=auth).status_code == 401


def test_ntlm_three_step_handshake(challenge_server: tuple[str, list[str]]) -> None:
    base, seen = challenge_server
    params = {"username": NTLM_USER, "password": NTLM_PASSWORD, "domain": NTLM_DOMAIN}
    with httpx.Client() as client:
        assert client.get(base + "/ntlm", auth=auth_for("ntlm", params, "r")).status_code == 200
    assert seen[0] == ""
    negotiate, authenticate = (base64.b64decode(h[5:]) for h in seen[1:3])
    assert negotiate[:12] == b"NTLMSSP\x00\x01\x00\x00\x00"  # type 1 (MS-NLMP 2.2.1.1)
    assert authenticate[:12] == b"NTLMSSP\x00\x03\x00\x00\x00"  # type 3


# --- Errors and secrets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth_type", "params", "message"),
    [
        ("asap", {"iss": "me"}, "The asap auth of request 'x' has no kid, aud, privateKey"),
        ("asap", {"alg": "HS256"}, "algorithm 'HS256' is not one of"),
        ("edgegrid", {"clientToken": "c"}, "has no accessToken, clientSecret"),
        ("jwt", {"algorithm": "none"}, "algorithm 'none' is not one of"),
        ("jwt", {"algorithm": "HS256"}, "jwt auth of request 'x' has no secret"),
        (
            "jwt",
            {"algorithm": "HS256", "secret": "s", "payload": "{x"},
            "payload is not valid JSON",
        ),
        ("jwt", {"algorithm": "RS256", "privateKey": "not a key"}, "not an unencrypted PEM key"),
        ("oauth1", {"consumerKey": "k"}, "oauth1 auth of request 'x' has no consumerSecret"),
        ("oauth1", {"consumerKey": "k", "signatureMethod": "RSA-SHA1", "privateKey": "x"}, "PEM"),
        ("hawk", {"authId": "i"}, "has no authKey"),
        ("awsv4", {"accessKey": "a", "secretKey": "s", "addAuthDataToQuery": True}, "query"),
    ],
)
def test_bad_or_unsupported_auth_is_a_clear_per_request_error(
    auth_type: str, params: dict[str, object], message: str
) -> None:
    with pytest.raises(RequestAuthError) as caught:
        auth_for(auth_type, params, "request 'x'")
    assert message in str(caught.value)
    assert "request 'x'" in str(caught.value)


def test_signed_values_are_registered_as_secrets() -> None:
    registry = SecretRegistry()
    auth = auth_for("oauth1", {**RFC5849, "addParamsToHeader": True}, "r")
    auth.report_to(registry.add)
    sent = send(auth, "GET", RFC5849_URL)
    assert registry.redact(sent.headers["Authorization"]) == "[REDACTED]"
    assert RFC5849["consumerSecret"] in registry and RFC5849["tokenSecret"] in registry
    jwt = auth_for("jwt", {**JWT_PARAMS, "addTokenTo": "queryParam"}, "r")
    jwt.report_to(registry.add)
    assert JWT_EXAMPLE not in registry.redact(str(send(jwt, "GET", "http://x/").url))


def test_build_attaches_the_signer_with_resolved_variables(tmp_path: Path) -> None:
    collection = {
        "info": {"name": "c", "schema": V21},
        "auth": {"type": "hawk", "hawk": [{"key": "authId", "value": "{{hawk_id}}"}]},
        "item": [
            {
                "name": "r",
                "request": {
                    "url": "http://example.com/",
                    "auth": {
                        "type": "hawk",
                        "hawk": [
                            {"key": "authId", "value": "{{hawk_id}}"},
                            {"key": "authKey", "value": "hawk-key-value"},
                        ],
                    },
                },
            }
        ],
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(collection))
    item = next(load_collection(path).requests())
    scopes = Scopes(environment={"hawk_id": "id-1"}, os_environ={})
    built = build_request(item, Resolver(scopes), files_root=tmp_path)
    assert built.auth is not None and "hawk-key-value" in built.auth.secrets
    assert 'id="id-1"' in send(built.auth, "GET", built.url).headers["Authorization"]


# --- The CLI: one bad auth fails one request, the run goes on ----------------------------------


def test_unsupported_or_broken_auth_fails_only_its_request(tmp_path: Path) -> None:
    default = json.loads(
        (Path(__file__).parent.parent / "collections/drchrono.postman_collection.json").read_text()
    )
    url = "{{base_url}}/api/users/current"
    collection = {
        "info": {"name": "auth types", "schema": V21},
        "auth": default["auth"],  # the sandbox's OAuth 2, inherited by "Current user"
        "item": [
            {"name": "EdgeGrid call", "request": {"url": url, "auth": {"type": "edgegrid"}}},
            {"name": "Not an auth type", "request": {"url": url, "auth": {"type": "weird"}}},
            {
                "name": "Bad JWT",
                "request": {
                    "url": url,
                    "auth": {"type": "jwt", "jwt": [{"key": "algorithm", "value": "none"}]},
                },
            },
            {"name": "Current user", "request": {"method": "GET", "url": url}},
        ],
    }
    path = tmp_path / "auth.postman_collection.json"
    path.write_text(json.dumps(collection))
    report = tmp_path / "summary.json"
    result = run_cli(
        "run",
        str(path),
        *("--env-var", "harness_target=sandbox"),  # it names no host: the sandbox on request
        "--no-contracts",
        *("--json", str(report)),
        cwd=tmp_path,
    )
    assert result.code == 1, result.stdout + result.stderr
    summary = json.loads(report.read_text())
    # The unknown type is ignored (sent unsigned, as Newman does): the sandbox answers 401.
    assert summary["summary"]["passed"] == 1 and summary["summary"]["total"] == 4
    output = result.stdout + result.stderr
    assert "The edgegrid auth of request 'EdgeGrid call' has no accessToken" in output
    assert "The jwt auth of request 'Bad JWT' cannot be used" in output
    assert "Traceback" not in output


def test_a_missing_optional_library_fails_only_that_request_and_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec

    def without_mohawk(name: str, *args: Any) -> Any:
        return None if name == "mohawk" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_mohawk)
    with pytest.raises(RequestAuthError) as raised:
        auth_for("hawk", {"authId": "id", "authKey": "key"}, "request 'R'")
    assert "request 'R'" in raised.value.message
    assert "drchrono-harness[postman-auth]" in (raised.value.hint or "")
