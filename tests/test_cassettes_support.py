"""A tiny DrChrono-like server on loopback with seeded PHI and known secrets (no tests here)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "client-id-public"
CLIENT_SECRET = "cs-very-secret-1234567890"
REFRESH_TOKEN = "rt-initial-abcdef123456"
ROTATED_REFRESH_TOKEN = "rt-rotated-zzzz11112222"
ACCESS_TOKEN = "at-issued-0987654321zyx"
AUTH_CODE = "authcode-AAAABBBBCCCCDDDD"
SESSION_COOKIE = "sess-cookie-987654321"
SECRETS = [
    CLIENT_SECRET,
    REFRESH_TOKEN,
    ROTATED_REFRESH_TOKEN,
    ACCESS_TOKEN,
    AUTH_CODE,
    SESSION_COOKIE,
]

PATIENT = {
    "id": 4242,
    "chart_id": "FEGW000001",
    "doctor": 7,
    "first_name": "Gwendolyn",
    "middle_name": "Marigold",
    "last_name": "Featherstonehaugh",
    "nick_name": "Gwenny",
    "date_of_birth": "1975-03-14",
    "social_security_number": "123-45-6789",
    "cell_phone": "(415) 867-5309",
    "home_phone": "415-555-2368",
    "email": "gwen.feather@gmail.com",
    "address": "742 Evergreen Terrace",
    "city": "Springfield",
    "zip_code": "97403",
    "employer": "Acme Widgets",
    "emergency_contact_name": "Bartholomew Featherstonehaugh",
    "emergency_contact_phone": "(503) 222-7788",
    "gender": "Female",
    "primary_insurance": {
        "insurance_id_number": "XQZ987654321",
        "subscriber_first_name": "Gwendolyn",
        "subscriber_last_name": "Featherstonehaugh",
        "insurance_payer_id": "60054",
    },
}
APPOINTMENT = {
    "id": "9001",
    "patient": 4242,
    "reason": "Gwendolyn reports chest pain",
    "notes": "Call Bartholomew at (503) 222-7788",
    "scheduled_time": "2030-01-01T09:00:00",
}
PHI_VALUES = sorted(
    {
        v
        for source in (PATIENT, PATIENT["primary_insurance"], APPOINTMENT)
        for k, v in source.items()  # type: ignore[attr-defined]
        if isinstance(v, str)
        and k not in {"id", "chart_id", "gender", "insurance_payer_id", "scheduled_time"}
    }
)


async def token(request: Request) -> Response:
    form = dict(parse_qsl((await request.body()).decode()))  # no python-multipart needed
    grant = form.get("grant_type")
    if form.get("client_secret") != CLIENT_SECRET:
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    if grant == "refresh_token" and form.get("refresh_token") != REFRESH_TOKEN:
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    if grant == "authorization_code" and form.get("code") != AUTH_CODE:
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    response = JSONResponse(
        {
            "access_token": ACCESS_TOKEN,
            "refresh_token": ROTATED_REFRESH_TOKEN,
            "token_type": "Bearer",
            "expires_in": 172800,
            "scope": "patients:read patients:write",
        },
        media_type="application/json; charset=utf-8",
    )
    response.set_cookie("sessionid", SESSION_COOKIE, httponly=True)
    return response


async def authorize(request: Request) -> Response:
    return RedirectResponse(f"/callback?code={AUTH_CODE}&state=xyz", status_code=302)


def _authorised(request: Request) -> bool:
    return request.headers.get("authorization") == f"Bearer {ACCESS_TOKEN}"


async def patients(request: Request) -> Response:
    if not _authorised(request):
        return JSONResponse({"detail": "Authentication credentials were not provided."}, 401)
    if request.method == "POST":
        body = await request.json()
        return JSONResponse({**body, "id": 5000}, status_code=201)
    last_name = request.query_params.get("last_name", "")
    # Big enough for the gzip middleware: the recorder must decode before scrubbing.
    results = [PATIENT] * 3 if last_name in ("", PATIENT["last_name"]) else []
    next_url = (
        f"{request.base_url}api/patients?last_name={quote(last_name)}&cursor=abc"
        if last_name
        else None
    )
    return JSONResponse({"previous": None, "next": next_url, "results": results})


async def patient(request: Request) -> Response:
    if not _authorised(request):
        return JSONResponse({"detail": "Authentication credentials were not provided."}, 401)
    return JSONResponse(PATIENT)


async def appointments(request: Request) -> Response:
    if not _authorised(request):
        return JSONResponse({"detail": "Authentication credentials were not provided."}, 401)
    return JSONResponse({"previous": None, "next": None, "results": [APPOINTMENT]})


def make_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/o/token/", token, methods=["POST"]),
            Route("/o/authorize/", authorize),
            Route("/api/patients", patients, methods=["GET", "POST"]),
            Route("/api/patients/{id:int}", patient),
            Route("/api/appointments", appointments),
        ],
        middleware=[Middleware(GZipMiddleware, minimum_size=200)],
    )


@contextlib.contextmanager
def running_server() -> Iterator[str]:
    """Serve the app on a free loopback port; yields the base URL; stops on exit."""
    config = uvicorn.Config(make_app(), host="127.0.0.1", port=0, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("test server did not start")
        threading.Event().wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def leaked_values(folder: Path, values: list[str]) -> list[tuple[str, str]]:
    """(file, value-prefix) for every value found in any byte of any file under ``folder``."""
    hits = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for value in values:
            variants = {value, quote_plus(value), quote(value), value.replace("/", "\\/")}
            if any(v.encode() in data for v in variants):
                hits.append((path.name, value[:3]))
    return hits
