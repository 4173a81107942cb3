"""Request signing for the Postman auth types beyond bearer/basic/apikey/oauth2.

Each type is handed to a well-kept library (httpx's own DigestAuth, Authlib's RFC 5849 base string
and signatures for OAuth 1, joserfc for JWT and ASAP, mohawk for Hawk, pyspnego for NTLM,
httpx-auth for AWS SigV4, Akamai's edgegrid-python for EdgeGrid); they are imported only when a
collection uses the type, so start-up stays fast. Those beyond httpx and Authlib come with the
``postman-auth`` extra, so a plain install does not force their pins (httpx-auth pins httpx's minor
version) on users who never sign such requests; without it, such a request fails on its own. Parameter
names and defaults follow postman-runtime's ``lib/authorizer/*.js``. Signing happens in
``auth_flow``, after the request is final, so the signature covers the URL and body that are sent.

Everything a signer puts on the wire is reported to the run's secret registry through
:meth:`RequestAuth.report_to` (the static credentials at once, the generated header and query
values as they are produced), so no report, log or cassette shows them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import re
import secrets as random_source
import string
import time
import uuid
import warnings
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import httpx

from harness.errors import InputError

if TYPE_CHECKING:  # imported lazily at run time
    from joserfc.jwk import ECKey, RSAKey


class RequestAuthError(InputError):
    """One request's auth cannot be applied (unsupported type, bad parameter); the run goes on."""


class RequestAuth(httpx.Auth):
    """A library's ``httpx.Auth`` that reports every credential value it sends.

    ``secrets`` are the configured credentials. The values a signer generates per request (the
    ``Authorization`` header, and the query or form fields named in ``credential_fields``) are
    reported as they are put on the wire, in plain and in URL-encoded form.
    """

    def __init__(
        self,
        signer: httpx.Auth,
        secrets: Iterable[str | None],
        credential_fields: Iterable[str] = (),
    ) -> None:
        self._signer = signer
        self.secrets = tuple(s for s in secrets if s)
        self.credential_fields = frozenset(credential_fields)
        self.requires_request_body = signer.requires_request_body
        self.requires_response_body = signer.requires_response_body
        self._report: Callable[[str], None] = lambda _value: None

    def report_to(self, register: Callable[[str], None]) -> None:
        for value in self.secrets:
            register(value)
        self._report = register

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self._signer.sync_auth_flow(request)
        try:
            outgoing = next(flow)
            while True:
                self._report_credentials(outgoing)
                response = yield outgoing
                outgoing = flow.send(response)
        except StopIteration:
            return

    def _report_credentials(self, request: httpx.Request) -> None:
        values = request.headers.get_list("authorization")
        fields = list(request.url.params.multi_items())
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            fields += parse_qsl(request.content.decode(), keep_blank_values=True)
        values += [v for k, v in fields if k in self.credential_fields]
        for value in values:
            scheme, _, credential = value.partition(" ")
            # "Bearer <token>": the token alone too, as it may be echoed without the scheme.
            for secret in (value, credential) if scheme.isalnum() else (value,):
                self._report(secret)
                self._report(quote(secret, safe=""))


def auth_for(
    auth_type: str,
    params: Mapping[str, object],
    where: str,
    *,
    header_names: Iterable[str] = (),
) -> RequestAuth:
    """The signer for one request's effective Postman auth.

    ``where`` names the request for messages; ``header_names`` are the request's own headers (the
    AWS signature covers them, as postman-runtime's does).
    """
    # A null parameter counts as absent, as postman-runtime's defaults (``_.isNil``) treat it.
    text = {k: str(v) for k, v in params.items() if v is not None}
    if auth_type == "awsv4":
        _require_library(auth_type, where)
        return _awsv4(text, where, header_names)
    builders: dict[str, Callable[[dict[str, str], str], RequestAuth]] = {
        "digest": _digest,
        "oauth1": _oauth1,
        "hawk": _hawk,
        "ntlm": _ntlm,
        "jwt": _jwt,
        "asap": _asap,
        "edgegrid": _edgegrid,  # Postman's name; "akamai" is accepted as the same type
        "akamai": _edgegrid,
    }
    builder = builders.get(auth_type)
    _require_library(auth_type, where)
    if builder is None:
        raise RequestAuthError(
            f"The {auth_type} auth of {where} is not supported by the harness; this request was "
            "not sent.",
            hint="Sign this request another way (for example a pre-computed header), or remove "
            "its auth; the other requests still run.",
        )
    return builder(text, where)


# The import name of the optional library each auth type needs (the ``postman-auth`` extra).
_OPTIONAL_LIBRARIES = {
    "hawk": "mohawk",
    "ntlm": "spnego",
    "awsv4": "httpx_auth",
    "jwt": "joserfc",
    "asap": "joserfc",
    "edgegrid": "akamai.edgegrid",
    "akamai": "akamai.edgegrid",
}


def _require_library(auth_type: str, where: str) -> None:
    module = _OPTIONAL_LIBRARIES.get(auth_type)
    if module is None:
        return
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package of a dotted name
        found = False
    if not found:
        raise RequestAuthError(
            f"The {auth_type} auth of {where} needs the Python package that provides {module!r}, "
            "which is not installed; this request was not sent.",
            hint="Install the harness with its request-signing extra: "
            "pip install 'drchrono-harness[postman-auth]'.",
        )


def _require(params: Mapping[str, str], names: Iterable[str], auth_type: str, where: str) -> None:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise RequestAuthError(
            f"The {auth_type} auth of {where} has no {', '.join(missing)}; this request was not sent.",
            hint="Set it in the collection's auth (or the variable it names).",
        )


def _bad(auth_type: str, where: str, problem: str) -> RequestAuthError:
    return RequestAuthError(
        f"The {auth_type} auth of {where} cannot be used: {problem}; this request was not sent.",
        hint="Fix the auth parameters in the collection.",
    )


# --- digest -------------------------------------------------------------------------------------


def _digest(params: dict[str, str], where: str) -> RequestAuth:
    # postman-runtime answers the server's 401 challenge (realm, nonce, qop, opaque, algorithm) and
    # resends; httpx's DigestAuth does the same exchange. With a realm and a nonce saved in the
    # block, Newman signs the first request with them already (digest.js pre/sign).
    _require(params, ["username"], "digest", where)
    signer = _PresetDigest(params)
    return RequestAuth(signer, [params.get("password")])


_DIGEST_HASHES = {"MD5": "md5", "MD5-SESS": "md5", "SHA-256": "sha256", "SHA-256-SESS": "sha256"}


class _PresetDigest(httpx.DigestAuth):
    """httpx's DigestAuth, which first signs with the block's own realm and nonce when it has
    both, writing the header as postman-runtime's digest.js computeHeader does."""

    def __init__(self, params: dict[str, str]) -> None:
        super().__init__(params["username"], params.get("password", ""))
        self._params = params

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        p = self._params
        algorithm = p.get("algorithm") or "MD5"
        if p.get("realm") and p.get("nonce") and algorithm in _DIGEST_HASHES:
            request.headers["Authorization"] = _postman_digest_header(p, algorithm, request)
        yield from super().auth_flow(request)  # a 401 challenge is answered as before


def _postman_digest_header(p: dict[str, str], algorithm: str, request: httpx.Request) -> str:
    def digest(text: str | bytes) -> str:
        data = text.encode() if isinstance(text, str) else text
        return hashlib.new(_DIGEST_HASHES[algorithm], data).hexdigest()

    username, realm, nonce = p["username"], p["realm"], p["nonce"]
    qop, count, cnonce = p.get("qop", ""), p.get("nonceCount", ""), p.get("clientNonce", "")
    uri = request.url.raw_path.decode("ascii")
    a1 = f"{username}:{realm}:{p.get('password', '')}"
    if algorithm.endswith("-SESS"):
        a1 = f"{digest(a1)}:{nonce}:{cnonce}"
    a2 = f"{request.method}:{uri}"
    if qop == "auth-int":
        a2 += ":" + digest(request.content)
    if qop in ("auth", "auth-int"):
        response = digest(f"{digest(a1)}:{nonce}:{count}:{cnonce}:{qop}:{digest(a2)}")
    else:
        response = digest(f"{digest(a1)}:{nonce}:{digest(a2)}")
    fields = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    fields.append(f'algorithm="{algorithm}"')
    if qop in ("auth", "auth-int"):
        fields.append(f"qop={qop}")
    if qop in ("auth", "auth-int") or algorithm == "MD5-SESS":
        if count:
            fields.append(f"nc={count}")
        fields.append(f'cnonce="{cnonce}"')
    fields.append(f'response="{response}"')
    if p.get("opaque"):
        fields.append(f'opaque="{p["opaque"]}"')
    return "Digest " + ", ".join(fields)


# --- OAuth 1.0 ----------------------------------------------------------------------------------

_OAUTH1_METHODS = {
    "HMAC-SHA1",
    "HMAC-SHA256",
    "HMAC-SHA512",
    "RSA-SHA1",
    "RSA-SHA256",
    "RSA-SHA512",
    "PLAINTEXT",
}


class _OAuth1Signer(httpx.Auth):
    """RFC 5849 signing as postman-runtime does it, on Authlib's base string and signatures."""

    requires_request_body = True

    def __init__(self, params: dict[str, str]) -> None:
        self.params = params

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        from authlib.oauth1.rfc5849 import signature

        p = self.params
        keep_empty = _true(p.get("addEmptyParamsToSign"))
        method = p.get("signatureMethod") or "HMAC-SHA1"
        form = request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        )
        body_params = parse_qsl(request.content.decode(), keep_blank_values=True) if form else []
        # postman-runtime's order; empty ones are left out unless addEmptyParamsToSign.
        oauth = [
            ("oauth_consumer_key", p.get("consumerKey", "")),
            ("oauth_token", p.get("token", "")),
            ("oauth_signature_method", method),
            ("oauth_timestamp", p.get("timestamp") or str(int(time.time()))),
            ("oauth_nonce", p.get("nonce") or _random_text(11)),
            ("oauth_version", p.get("version", "")),
        ]
        if _true(p.get("includeBodyHash")) and not form and "-" in method:
            # postman-runtime hashes a non-form body with the signature's hash, base64-encoded.
            digest = hashlib.new(method.split("-")[1].lower(), request.content).digest()
            oauth.append(("oauth_body_hash", base64.b64encode(digest).decode()))
        oauth += [
            ("oauth_callback", p.get("callback", "")),
            ("oauth_verifier", p.get("verifier", "")),
        ]
        oauth = [(k, v) for k, v in oauth if v or keep_empty]
        base = signature.construct_base_string(
            request.method,
            str(request.url.copy_with(query=None)),
            [*request.url.params.multi_items(), *oauth, *body_params],
        )
        oauth.append(("oauth_signature", _oauth1_signature(method, base, p)))
        if _true(p.get("addParamsToHeader")):
            encode = (lambda v: v) if _true(p.get("disableHeaderEncoding")) else signature.escape
            fields = [f'realm="{encode(p["realm"])}"'] if p.get("realm") else []
            fields += [f'{k}="{encode(v)}"' for k, v in oauth]
            request.headers["Authorization"] = "OAuth " + ",".join(fields)
        elif form and request.method in ("POST", "PUT"):
            content = urlencode([*body_params, *oauth]).encode()
            request.stream = httpx.ByteStream(content)
            request._content = content
            request.headers["Content-Length"] = str(len(content))
        else:
            request.url = request.url.copy_merge_params(httpx.QueryParams(tuple(oauth)))
        yield request


def _oauth1_signature(method: str, base: str, p: dict[str, str]) -> str:
    from authlib.oauth1.rfc5849 import signature

    consumer_secret, token_secret = p.get("consumerSecret", ""), p.get("tokenSecret", "")
    if method == "PLAINTEXT":
        return str(signature.plaintext_signature(consumer_secret, token_secret))
    if method == "HMAC-SHA1":
        return str(signature.hmac_sha1_signature(base, consumer_secret, token_secret))
    if method == "RSA-SHA1":
        return str(signature.rsa_sha1_signature(base, p["privateKey"]))
    digest = method.split("-")[1].lower()
    if method.startswith("HMAC"):
        key = f"{signature.escape(consumer_secret)}&{signature.escape(token_secret)}"
        return base64.b64encode(hmac.new(key.encode(), base.encode(), digest).digest()).decode()
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    private = serialization.load_pem_private_key(p["privateKey"].encode(), password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise RequestAuthError(f"The oauth1 private key is not an RSA key ({method}).")
    algorithm = hashes.SHA256() if digest == "sha256" else hashes.SHA512()
    return base64.b64encode(private.sign(base.encode(), padding.PKCS1v15(), algorithm)).decode()


def _true(value: str | None) -> bool:
    return value in ("true", "True", "1")


def _random_text(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(random_source.choice(alphabet) for _ in range(length))


def _oauth1(params: dict[str, str], where: str) -> RequestAuth:
    method = params.get("signatureMethod") or "HMAC-SHA1"
    if method not in _OAUTH1_METHODS:
        raise _bad(
            "oauth1", where, f"signature method {method!r} is not one of {sorted(_OAUTH1_METHODS)}"
        )
    needed = ["consumerKey", "privateKey" if method.startswith("RSA") else "consumerSecret"]
    _require(params, needed, "oauth1", where)
    if method.startswith("RSA"):
        _load_private_key(params["privateKey"], "oauth1", where)
    secrets = [params.get(n) for n in ("consumerSecret", "tokenSecret", "privateKey", "token")]
    return RequestAuth(
        _OAuth1Signer(params), secrets, ["oauth_signature", "oauth_token", "oauth_verifier"]
    )


def _load_private_key(pem: str, auth_type: str, where: str) -> None:
    from cryptography.hazmat.primitives import serialization

    try:
        serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise _bad(
            auth_type, where, f"the private key is not an unencrypted PEM key ({exc})"
        ) from None


# --- Hawk ---------------------------------------------------------------------------------------


class _HawkSigner(httpx.Auth):
    requires_request_body = True

    def __init__(self, params: dict[str, str]) -> None:
        self.params = params

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        import mohawk

        p = self.params
        hash_payload = _true(p.get("includePayloadHash"))
        # postman-runtime: a 6-character random nonce and the current time unless given.
        nonce = p.get("nonce") or _random_text(6)
        timestamp = int(p["timestamp"]) if p.get("timestamp", "").isdigit() else None
        sender = mohawk.Sender(
            {"id": p["authId"], "key": p["authKey"], "algorithm": p.get("algorithm") or "sha256"},
            str(request.url),
            request.method,
            content=request.content if hash_payload else mohawk.base.EmptyValue,
            content_type=request.headers.get("content-type", "")
            if hash_payload
            else mohawk.base.EmptyValue,
            always_hash_content=hash_payload,
            nonce=nonce,
            ext=p.get("extraData") or None,
            app=p.get("app") or None,
            dlg=p.get("delegation") or None,
            _timestamp=timestamp,
        )
        request.headers["Authorization"] = sender.request_header
        yield request


def _hawk(params: dict[str, str], where: str) -> RequestAuth:
    _require(params, ["authId", "authKey"], "hawk", where)
    algorithm = params.get("algorithm") or "sha256"
    if algorithm not in ("sha256", "sha1"):
        raise _bad("hawk", where, f"algorithm {algorithm!r} is neither sha256 nor sha1")
    return RequestAuth(_HawkSigner(params), [params["authKey"]])


# --- NTLM ---------------------------------------------------------------------------------------


class _NtlmSigner(httpx.Auth):
    """NTLM's three-step handshake (pyspnego makes the messages) on one kept-alive connection."""

    requires_response_body = True  # read the 401 bodies so the connection is reused

    def __init__(self, params: dict[str, str]) -> None:
        self.params = params

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        import spnego

        # postman-runtime sends the request unsigned first and negotiates only on an NTLM 401.
        response = yield request
        if response.status_code != 401 or _ntlm_token(response) is None:
            return
        p = self.params
        user = f"{p['domain']}\\{p['username']}" if p.get("domain") else p["username"]
        context = spnego.client(
            user,
            p.get("password", ""),
            hostname=request.url.host,
            service="http",
            protocol="ntlm",
        )
        negotiate = context.step()
        request.headers["Authorization"] = "NTLM " + base64.b64encode(negotiate or b"").decode()
        response = yield request
        challenge = _ntlm_token(response)
        if response.status_code != 401 or not challenge:
            return
        authenticate = context.step(base64.b64decode(challenge))
        request.headers["Authorization"] = "NTLM " + base64.b64encode(authenticate or b"").decode()
        yield request


def _ntlm_token(response: httpx.Response) -> str | None:
    for value in response.headers.get_list("www-authenticate"):
        scheme, _, token = value.strip().partition(" ")
        if scheme.upper() == "NTLM":
            return token.strip()
    return None


def _ntlm(params: dict[str, str], where: str) -> RequestAuth:
    _require(params, ["username"], "ntlm", where)
    return RequestAuth(_NtlmSigner(params), [params.get("password")])


# --- AWS Signature Version 4 ----------------------------------------------------------------------

# Headers the aws4 library (used by postman-runtime) leaves out of the signature.
_AWS_UNSIGNED_HEADERS = frozenset(
    {"authorization", "connection", "x-amzn-trace-id", "user-agent", "expect", "range"}
)


class _AwsSigner(httpx.Auth):
    """httpx-auth's SigV4 signer, over the request's own headers like postman-runtime's aws4."""

    requires_request_body = True

    def __init__(self, params: dict[str, str], signed_headers: Iterable[str]) -> None:
        self.params = params
        self.signed_headers = [h for h in signed_headers if h.lower() not in _AWS_UNSIGNED_HEADERS]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        from httpx_auth import AWS4Auth

        p = self.params
        signer = AWS4Auth(
            access_id=p["accessKey"],
            secret_key=p["secretKey"],
            region=p.get("region") or "us-east-1",
            service=p.get("service") or "execute-api",  # postman-runtime's default (API Gateway)
            security_token=p.get("sessionToken") or None,
            include_headers=self.signed_headers,
        )
        yield from signer.auth_flow(request)


def _awsv4(params: dict[str, str], where: str, headers: Iterable[str]) -> RequestAuth:
    _require(params, ["accessKey", "secretKey"], "awsv4", where)
    if _true(params.get("addAuthDataToQuery")):
        raise _bad("awsv4", where, "signing into the query (addAuthDataToQuery) is not supported")
    secrets = [params["secretKey"], params.get("sessionToken")]
    return RequestAuth(_AwsSigner(params, headers), secrets)


# --- JWT ----------------------------------------------------------------------------------------

_JWT_HMAC = ("HS256", "HS384", "HS512")
_JWT_ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


class _JwtSigner(httpx.Auth):
    def __init__(self, token: str, params: dict[str, str]) -> None:
        self.token = token
        self.params = params

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        p = self.params
        if (p.get("addTokenTo") or "header") == "queryParam":
            key = p.get("queryParamKey") or "token"
            request.url = request.url.copy_remove_param(key).copy_add_param(key, self.token)
        else:
            prefix = p.get("headerPrefix", "Bearer")
            request.headers["Authorization"] = f"{prefix} {self.token}" if prefix else self.token
        yield request


def _jwt(params: dict[str, str], where: str) -> RequestAuth:
    from joserfc import jws
    from joserfc.errors import JoseError
    from joserfc.jwk import OctKey

    algorithm = params.get("algorithm", "")
    if algorithm not in _JWT_HMAC + _JWT_ASYMMETRIC:
        raise _bad(
            "jwt",
            where,
            f"algorithm {algorithm!r} is not one of {list(_JWT_HMAC + _JWT_ASYMMETRIC)}",
        )
    _require(params, ["secret" if algorithm in _JWT_HMAC else "privateKey"], "jwt", where)
    header = _json_object(params.get("header", ""), "header", where)
    payload = _json_object(params.get("payload", ""), "payload", where)
    # postman-runtime (jose's SignJWT): the given header with alg set, the payload as given, no
    # claims added; JSON serialised compactly in key order.
    protected = {**header, "alg": algorithm}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        key: OctKey | RSAKey | ECKey
        if algorithm in _JWT_HMAC:
            raw = params["secret"]
            secret = (
                base64.b64decode(raw)
                if _true(params.get("isSecretBase64Encoded"))
                else raw.encode()
            )
            with warnings.catch_warnings():
                warnings.simplefilter(
                    "ignore"
                )  # short secrets are the user's choice, as in Postman
                key = OctKey.import_key(secret)
        else:
            key = _signing_key(params["privateKey"], algorithm, "jwt", where)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            token = jws.serialize_compact(protected, body, key, algorithms=[algorithm])
    except (JoseError, ValueError, TypeError) as exc:
        raise _bad("jwt", where, f"signing failed ({exc})") from None
    return RequestAuth(
        _JwtSigner(token, params),
        [params.get("secret"), params.get("privateKey"), token],
        [params.get("queryParamKey") or "token"],
    )


def _json_object(text: str, what: str, where: str, auth_type: str = "jwt") -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(auth_type, where, f"the {what} is not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise _bad(auth_type, where, f"the {what} is not a JSON object")
    return value


def _signing_key(text: str, algorithm: str, auth_type: str, where: str) -> RSAKey | ECKey:
    """A joserfc key from a PEM private key, as jose's importPKCS8 reads it in postman-runtime.

    Also accepted: a PEM whose line breaks were lost (Postman's text field flattens them), and
    ASAP's ``data:application/pkcs8;kid=...;base64,...`` form.
    """
    from cryptography.hazmat.primitives import serialization
    from joserfc.jwk import ECKey, RSAKey

    text = unquote(text.strip().strip('"'))
    if text.startswith("data:"):
        body = text.rpartition("base64,")[2]
    else:
        body = re.sub(r"-----(BEGIN|END) [A-Z ]+-----|\s", "", text)
    try:
        private = serialization.load_der_private_key(base64.b64decode(body), password=None)
    except (ValueError, TypeError) as exc:
        raise _bad(
            auth_type, where, f"the private key is not an unencrypted PEM key ({exc})"
        ) from None
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        return ECKey.import_key(pem) if algorithm.startswith("ES") else RSAKey.import_key(pem)
    except ValueError as exc:
        raise _bad(auth_type, where, f"the private key does not fit {algorithm} ({exc})") from None


# --- ASAP (Atlassian service-to-service) --------------------------------------------------------


class _AsapSigner(httpx.Auth):
    """A fresh ASAP token per send: postman-runtime's claims, a new jti and iat each time."""

    def __init__(self, params: dict[str, str], claims: dict[str, Any], key: RSAKey | ECKey) -> None:
        self.params = params
        self.claims = claims
        self.key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        from joserfc import jws

        p, claims = self.params, dict(self.claims)
        now = int(time.time())
        issuer = claims.get("iss") or p.get("iss")
        # jose's SignJWT setters, in postman-runtime's order: claims given win, except exp.
        claims["iat"] = claims.get("iat") or now
        claims["iss"] = issuer
        claims["sub"] = claims.get("sub") or p.get("sub") or issuer
        claims["jti"] = claims.get("jti") or str(uuid.uuid4())
        claims["aud"] = claims.get("aud") or p.get("aud")
        expiry = int(p["exp"]) if p.get("exp", "").isdigit() and int(p["exp"]) else 3600
        claims["exp"] = int(claims["exp"]) if claims.get("exp") else now + expiry
        algorithm = p.get("alg") or "RS256"
        protected = {"alg": algorithm, "kid": claims.get("kid") or p.get("kid")}
        body = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
        token = jws.serialize_compact(protected, body, self.key, algorithms=[algorithm])
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


def _asap(params: dict[str, str], where: str) -> RequestAuth:
    algorithm = params.get("alg") or "RS256"  # ASAP has no symmetric algorithms
    if algorithm not in _JWT_ASYMMETRIC:
        raise _bad("asap", where, f"algorithm {algorithm!r} is not one of {list(_JWT_ASYMMETRIC)}")
    claims = _json_object(params.get("claims", ""), "claims", where, "asap")
    missing = [
        name
        for name, value in (
            ("kid", claims.get("kid") or params.get("kid")),
            ("iss", claims.get("iss") or params.get("iss")),
            ("aud", claims.get("aud") or params.get("aud")),
            ("privateKey", params.get("privateKey")),
        )
        if not value
    ]
    if missing:
        _require({}, missing, "asap", where)
    key = _signing_key(params["privateKey"], algorithm, "asap", where)
    return RequestAuth(_AsapSigner(params, claims, key), [params["privateKey"]])


# --- Akamai EdgeGrid ----------------------------------------------------------------------------


class _EdgeGridSigner(httpx.Auth):
    """Akamai's own EdgeGrid header signer (edgegrid-python), fed postman-runtime's inputs."""

    requires_request_body = True

    def __init__(self, params: dict[str, str]) -> None:
        self.params = params

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        from akamai.edgegrid.edgegrid import EdgeGridAuthHeaders, eg_timestamp, new_nonce

        p = self.params
        signer = EdgeGridAuthHeaders(
            p["clientToken"],
            p["clientSecret"],
            p["accessToken"],
            headers_to_sign=[h.strip() for h in p.get("headersToSign", "").split(",") if h.strip()],
            max_body=int(p["maxBodySize"]) if p.get("maxBodySize", "").isdigit() else 131072,
        )
        url = request.url
        if p.get("baseURL"):  # postman-runtime signs the baseURL's host when one is given
            base = httpx.URL(p["baseURL"] if "://" in p["baseURL"] else "https://" + p["baseURL"])
            url = url.copy_with(host=base.host, port=base.port)
        # The signer reads url, method, headers and body, and may add its User-Agent suffix
        # (AKAMAI_CLI variables) to the headers it is given: hand it a copy.
        view = _SigningView(
            str(url), request.method, httpx.Headers(request.headers), request.content
        )
        view.headers.pop("host", None)  # let the signer take the host from the URL
        request.headers["Authorization"] = signer.make_auth_header(
            view, p.get("timestamp") or eg_timestamp(), p.get("nonce") or new_nonce()
        )
        yield request


class _SigningView:
    """The request attributes edgegrid-python's signer reads (it expects a requests request)."""

    def __init__(self, url: str, method: str, headers: httpx.Headers, body: bytes) -> None:
        self.url, self.method, self.headers, self.body = url, method, headers, body


def _edgegrid(params: dict[str, str], where: str) -> RequestAuth:
    _require(params, ["accessToken", "clientToken", "clientSecret"], "edgegrid", where)
    secrets = [params["clientSecret"], params["accessToken"], params["clientToken"]]
    return RequestAuth(_EdgeGridSigner(params), secrets)
