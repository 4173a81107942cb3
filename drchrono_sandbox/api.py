"""The REST side: ``/api/...`` with Bearer auth, scopes, throttling, pagination and dispatch.

Order of checks follows Django REST framework: authentication (401), throttling (429),
routing (404/405), permission (403), required and typed query parameters (400), then the
handler. Every resource family (:mod:`drchrono_sandbox.families`: hand-written in
:mod:`drchrono_sandbox.resources` or derived from the contracts) is served from state, as are
the batch endpoints (:mod:`drchrono_sandbox.batches`), the actions of
:mod:`drchrono_sandbox.actions` and the reports of :mod:`drchrono_sandbox.reports` (day sheets,
availability). What is left acts on a record that must exist and is acknowledged (204, a CCDA
document), or answers 501: not implemented in the sandbox.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from html import escape
from pathlib import PurePosixPath
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from drchrono_sandbox.actions import ACTIONS
from drchrono_sandbox.batches import (
    batch_answer,
    batch_family,
    created_answer,
    file_request,
    filed_query,
)
from drchrono_sandbox.context import SandboxContext
from drchrono_sandbox.families import Catalog, catalog_for, ensure_seeded, history_event
from drchrono_sandbox.oauth import ctx_of, form_of
from drchrono_sandbox.openapi_ops import Operation
from drchrono_sandbox.reports import REPORTS
from drchrono_sandbox.resources import (
    REQUIRED,
    BadRequest,
    Conflict,
    Records,
    Resource,
)
from drchrono_sandbox.state import AccessToken

NOT_AUTHENTICATED = "Authentication credentials were not provided."
FORBIDDEN = "You do not have permission to perform this action."
NOT_FOUND = "Not found."
THROTTLED = "Request was throttled."
MEDIA_URL = "https://drchrono-sandbox.local/media"


def detail(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=dict(headers or {}))


def no_content() -> Response:
    return Response(status_code=204)


# -- which operations are stateful ------------------------------------------------------------
def stateful_kind(op: Operation, catalog: Catalog) -> str | None:
    """'list', 'create', 'retrieve', 'update', 'delete' when state serves ``op``, else None."""
    return catalog.kind(op)


def not_implemented(op: Operation) -> Response:
    """What the sandbox answers for an operation it cannot serve: recognisably not a failure."""
    return JSONResponse(
        {
            "detail": f"{op.key} ({op.operation_id}) is not implemented in the sandbox.",
            "sandbox": "not_implemented",
            "operation": op.key,
        },
        status_code=501,
    )


# -- entry point -----------------------------------------------------------------------------------
async def api_entry(request: Request) -> Response:
    ctx = ctx_of(request)
    token = authenticate(ctx, request)
    if isinstance(token, Response):
        return token
    if ctx.config.rate_limit and not ctx.limiter.allow(token.client_id):
        headers = {}
        if ctx.config.throttle_retry_after is not None:
            headers["Retry-After"] = str(ctx.config.throttle_retry_after)
        return detail(429, THROTTLED, headers)
    path = request.url.path
    method = "GET" if request.method == "HEAD" else request.method
    if path == "/api/users/current":
        if method != "GET":
            return detail(405, f'Method "{request.method}" not allowed.')
        user_id = ctx.store.meta.get("user_id")
        return RedirectResponse(f"/api/users/{user_id}", status_code=302)
    match = ctx.doc.match(path)
    if match is None:
        return detail(404, NOT_FOUND)
    allowed = ", ".join(sorted(match.operations) + ["OPTIONS"])
    if method == "OPTIONS":
        return JSONResponse(
            {
                "name": match.template,
                "description": "",
                "renders": ["application/json"],
                "parses": [
                    "application/json",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                ],
            },
            headers={"Allow": allowed},
        )
    op = match.operations.get(method)
    if op is None:
        return detail(405, f'Method "{request.method}" not allowed.', {"Allow": allowed})
    if not op.allows(frozenset(token.scopes)):
        return detail(403, FORBIDDEN)
    try:
        return await dispatch(ctx, request, op, match.params)
    except BadRequest as bad:
        return JSONResponse(bad.body, status_code=bad.status)
    except Conflict as conflict:
        return detail(409, str(conflict))


async def dispatch(
    ctx: SandboxContext, request: Request, op: Operation, path_params: Mapping[str, str]
) -> Response:
    """The answer to an authorised request of ``op``: from state wherever the sandbox can."""
    catalog = catalog_for(ctx.doc, ctx.shapes)
    family = catalog.family_of(op) or batch_family(op, catalog)
    if family is not None:
        ensure_seeded(ctx.store, catalog, ctx.shapes, family, ctx.config.family_records)
    missing = missing_query(op, request)
    if missing:
        raise BadRequest({name: [REQUIRED] for name in missing})
    check_filter_types(op, request)
    kind = catalog.kind(op)
    if kind is None and op.method == "PATCH" and "id" in op.required_query:
        kind = "update"  # PATCH /api/signed_consent_forms?id=...: the record named in the query
    if family is not None:
        if kind is not None:
            params = {**path_params}
            if "id" not in params:
                params["id"] = request.query_params.get("id", "")
            return await serve_stateful(ctx, request, op, kind, family, params)
        if catalog.family_of(op) is None:
            return await serve_batch(ctx, request, op, family)
        if "id" in path_params and op.key not in ACTIONS:
            answer = record_action(ctx, op, family, path_params["id"])
            if answer is not None:
                return answer
    if op.key in REPORTS:
        return JSONResponse(REPORTS[op.key](ctx, request.query_params))
    if op.key in ACTIONS:
        changed = ACTIONS[op.key](ctx.store, path_params["id"], await read_body(request))
        return detail(404, NOT_FOUND) if changed is None else JSONResponse(changed, 201)
    if not ctx.config.generated_operations:
        return detail(404, NOT_FOUND)
    return await serve_acknowledged(ctx, request, op, path_params)


def record_action(
    ctx: SandboxContext, op: Operation, family: Resource, record_id: str
) -> Response | None:
    """An action on one record (/api/patients/{id}/ccda): 404 unless the record exists; the
    record itself where the action answers with it (onpatient_access); else None."""
    record = Records(ctx.store, family, ctx.shapes.components, ctx.shapes.resolve).get(record_id)
    if record is None:
        return detail(404, NOT_FOUND)
    if ctx.shapes.schema_file(op.key, op.success_status) == f"schemas/{family.schema}.json":
        return JSONResponse(record, status_code=op.success_status)
    return None


async def serve_batch(
    ctx: SandboxContext, request: Request, op: Operation, family: Resource
) -> Response:
    records = Records(ctx.store, family, ctx.shapes.components, ctx.shapes.resolve)
    query = dict(request.query_params)
    if op.method == "POST":
        records.list(query)  # a filter DrChrono refuses is refused when the batch is filed
        key = file_request(ctx.store, family, query)
        list_url = str(request.url.replace(query=""))
        return JSONResponse(created_answer(key, list_url), status_code=201)
    key = query.pop("uuid", "")
    if key:
        filed = filed_query(ctx.store, family, key)
        if filed is None:
            return detail(404, NOT_FOUND)
        query = filed
    else:
        key = file_request(ctx.store, family, query)
    return JSONResponse(batch_answer(ctx.shapes, op, key, records.list(query)))


def authenticate(ctx: SandboxContext, request: Request) -> AccessToken | Response:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return detail(401, NOT_AUTHENTICATED, {"WWW-Authenticate": 'Bearer realm="api"'})
    token, why = ctx.store.check_access(value.strip())
    if token is None:
        # django-oauth-toolkit's DRF authentication reports an invalid or expired token as
        # "not provided" in the body and says why in WWW-Authenticate.
        return detail(
            401,
            NOT_AUTHENTICATED,
            {
                "WWW-Authenticate": f'Bearer realm="api",error="invalid_token",error_description="{why}"',
            },
        )
    return token


def missing_query(op: Operation, request: Request) -> list[str]:
    """Required query parameters the request lacks (a create may carry them in its body)."""
    if op.method == "POST":
        return []  # checked as required fields of the record (Records.clean)
    return [n for n in op.required_query if not request.query_params.get(n)]


def check_filter_types(op: Operation, request: Request) -> None:
    """An integer filter that is not a number is django-filter's 400 (``?patient=<integer>``).

    ``page_size`` is left out: DRF ignores a page size it cannot read."""
    if op.method not in ("GET", "HEAD"):
        return
    wrong = {
        name: ["Enter a number."]
        for name in op.integer_query
        if name != "page_size"
        and (value := request.query_params.get(name, "").strip())
        and not value.lstrip("-").isdigit()
    }
    if wrong:
        raise BadRequest(wrong)


async def read_body(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        return await multipart_fields(request)
    raw = await request.body()
    if not raw.strip():
        return {}
    if ctype == "application/x-www-form-urlencoded":
        return dict(await form_of(request))
    if ctype in ("application/json", "") or ctype.endswith("+json"):
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest({"detail": f"JSON parse error - {exc}"}) from None
        if not isinstance(body, dict):
            raise BadRequest(
                {
                    "non_field_errors": [
                        f"Invalid data. Expected a dictionary, but got {type(body).__name__}."
                    ]
                }
            )
        return body
    raise BadRequest({"detail": f'Unsupported media type "{ctype}" in request.'}, status=415)


async def multipart_fields(request: Request) -> dict[str, Any]:
    """A multipart body's fields; a file part is stored and stands as its URL, as on DrChrono."""
    try:
        form = await request.form()
    except (AssertionError, ValueError, KeyError) as exc:  # no boundary, a malformed body
        raise BadRequest({"detail": f"Multipart form parse error - {exc}"}) from None
    fields: dict[str, Any] = {}
    for key in form:
        values: list[Any] = []
        for value in form.getlist(key):
            if isinstance(value, UploadFile):
                content = await value.read()
                digest = hashlib.sha256(content).hexdigest()[:16]
                name = PurePosixPath(value.filename or "upload").name
                values.append(f"{MEDIA_URL}/{digest}/{name}")
            else:
                values.append(value)
        fields[key] = values[0] if len(values) == 1 else values
    await form.close()
    return fields


# -- stateful ------------------------------------------------------------------------------
async def serve_stateful(
    ctx: SandboxContext,
    request: Request,
    op: Operation,
    kind: str,
    resource: Resource,
    params: Mapping[str, str],
) -> Response:
    records = Records(ctx.store, resource, ctx.shapes.components, ctx.shapes.resolve)
    if kind == "list":
        matching = records.list(dict(request.query_params))
        if ctx.shapes.schema_file(op.key, op.success_status) == f"schemas/{resource.schema}.json":
            # A "list" the document answers with one record (the doctor's work schedule, the
            # yellow notepad of one appointment and template): the first that matches.
            return JSONResponse(matching[0]) if matching else detail(404, NOT_FOUND)
        return paginate(ctx, request, matching)
    if kind == "create":
        body = await read_body(request)
        # Fields the document passes as query parameters (signed consent forms' patient).
        named = {n: request.query_params[n] for n in op.required_query if n in request.query_params}
        assigned = records.assigned(op.required_query, request.query_params)
        return JSONResponse(records.create({**named, **body}, assigned), status_code=201)
    record_id = params["id"]
    if kind == "retrieve" and resource.history_of is not None:
        owner = catalog_for(ctx.doc, ctx.shapes).families[resource.history_of]
        of = Records(ctx.store, owner, ctx.shapes.components, ctx.shapes.resolve).get(record_id)
        return detail(404, NOT_FOUND) if of is None else JSONResponse(history_event(of))
    if kind == "retrieve":
        found = records.get(record_id)
        return detail(404, NOT_FOUND) if found is None else JSONResponse(found)
    if kind == "delete":
        return no_content() if records.delete(record_id) else detail(404, NOT_FOUND)
    if records.get(record_id) is None:
        return detail(404, NOT_FOUND)
    body = await read_body(request)
    updated = records.update(record_id, body, partial=op.method == "PATCH")
    return detail(404, NOT_FOUND) if updated is None else no_content()


# -- pagination ----------------------------------------------------------------------------
def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o={offset}".encode()).decode()


def decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    key, _, value = text.partition("=")
    return int(value) if key == "o" and value.isdigit() else None


def page_size_of(ctx: SandboxContext, request: Request) -> int:
    raw = request.query_params.get("page_size", "")
    try:
        asked = int(raw)
    except ValueError:
        return ctx.config.page_size  # DRF ignores a page_size it cannot read
    return max(1, min(asked, ctx.config.max_page_size)) if asked > 0 else ctx.config.page_size


def paginate(ctx: SandboxContext, request: Request, items: list[Any]) -> Response:
    size = page_size_of(ctx, request)
    offset = 0
    if request.query_params.get("cursor"):  # DRF reads an empty cursor= as the first page
        decoded = decode_cursor(request.query_params["cursor"])
        if decoded is None:
            return detail(404, "Invalid cursor")
        offset = decoded
    page = items[offset : offset + size]
    next_url = prev_url = None
    if offset + size < len(items):
        next_url = str(request.url.include_query_params(cursor=encode_cursor(offset + size)))
    if offset > 0:
        back = encode_cursor(max(0, offset - size))
        prev_url = str(request.url.include_query_params(cursor=back))
    return JSONResponse({"previous": prev_url, "results": page, "next": next_url})


# -- answers with nothing to keep ------------------------------------------------------------
async def serve_acknowledged(
    ctx: SandboxContext, request: Request, op: Operation, params: Mapping[str, str]
) -> Response:
    """What is left once families, batches and actions are served, for a record that exists:
    an acknowledgement (204: a consent form applied, a pharmacy note appended) or a document
    about it (a patient's CCDA or QRDA1, a minimal ClinicalDocument naming the patient).
    Anything else has nothing to be served from: not implemented (501)."""
    if op.method in ("POST", "PUT", "PATCH"):
        await read_body(request)  # a body the sandbox cannot read is still a 400 or 415
    if op.success_status == 204:
        return no_content()
    ctype = op.response_content_type or ""
    if "xml" in ctype:
        record_id = escape(params.get("id", ""), quote=True)
        xml = f'<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument id="{record_id}"/>'
        return Response(xml, status_code=op.success_status, media_type=ctype)
    return not_implemented(op)


routes = [
    Route(
        "/api/{rest:path}",
        api_entry,
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    ),
]
