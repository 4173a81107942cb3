"""DrChrono's whole API as a Postman v2.1 collection, generated from the contracts.

One folder per resource family (``/api/<family>...``), each request a real one: path ids captured
by test scripts from earlier responses, bodies built from the corrected contracts' schemas
(required fields, foreign keys pointing at records the Setup folder made), required filters. A
folder lists, creates, reads, updates and deletes its own record (deletes last), then exercises
the errors a client must handle: 404 for a record that does not exist, 401 with a bad token, 403
with a token lacking the family's scope, 400 for a missing required field or filter. What the
document cannot say is data in ``contracts/collection.yaml`` (:class:`CollectionPlan`), so the
collection follows the OpenAPI document when DrChrono changes it.

Pure but for reading the contracts directory: :func:`generate_collection` returns the JSON text,
the same text for the same inputs.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contracts.importer import load_openapi
from harness.errors import InputError
from harness.json_input import read_input_text
from harness.safe_yaml import safe_load

PLAN_FILE = "collection.yaml"
COLLECTION_NAME = "DrChrono API (full, generated)"
# A token with only this scope fails every GET that lists a :read scope (the 403 checks).
NARROW_SCOPE = "user:write"
BAD_TOKEN = "not-a-valid-token"  # noqa: S105 - a deliberately invalid token, not a secret
API_PREFIX = "/api/"
# What the Setup folder sets before any fixture: optional foreign keys to these are always sent
# (a record tied to the test patient), optional ones to fixtures only when required.
SETUP_VARIABLES = frozenset({"doctor_id", "office_id", "exam_room", "patient_id", "appointment_id"})
KIND_ORDER = {"list": 0, "create": 1, "retrieve": 2, "replace": 3, "update": 4, "action": 5}
METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}

JSON = dict[str, Any]
_PLAN_HINT = "Restore contracts/collection.yaml from the repository, or pass --plan."
_CONTRACTS_HINT = "Regenerate the contracts with `harness contracts import`."


@dataclass(frozen=True)
class Fixture:
    family: str
    variable: str
    create: bool


@dataclass(frozen=True)
class CollectionPlan:
    """The hand-edits: ``contracts/collection.yaml``."""

    variables: dict[str, str] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    fixtures: tuple[Fixture, ...] = ()
    queries: dict[str, dict[str, str]] = field(default_factory=dict)
    bodies: dict[str, JSON] = field(default_factory=dict)
    captures: dict[str, dict[str, str]] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    ids: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    skip: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> CollectionPlan:
        text = read_input_text(path, what="collection plan", hint=_PLAN_HINT)
        try:
            raw = safe_load(text)
        except Exception as exc:  # yaml errors carry the line
            raise InputError(f"{path} is not valid YAML: {exc}") from None
        if not isinstance(raw, dict) or raw.get("version") != 1:
            raise InputError(f"{path} is not a collection plan (expected 'version: 1').")
        try:
            return cls(
                variables={str(k): str(v) for k, v in (raw.get("variables") or {}).items()},
                references={str(k): str(v) for k, v in (raw.get("references") or {}).items()},
                fixtures=tuple(
                    Fixture(str(f["family"]), str(f["variable"]), bool(f.get("create")))
                    for f in raw.get("fixtures") or []
                ),
                queries={
                    str(k): {str(n): str(v) for n, v in q.items()}
                    for k, q in (raw.get("queries") or {}).items()
                },
                bodies={str(k): dict(b) for k, b in (raw.get("bodies") or {}).items()},
                captures={
                    str(k): {str(n): str(v) for n, v in c.items()}
                    for k, c in (raw.get("captures") or {}).items()
                },
                order=tuple(str(f) for f in raw.get("order") or []),
                ids={str(k): str(v) for k, v in (raw.get("ids") or {}).items()},
                keys={str(k): str(v) for k, v in (raw.get("keys") or {}).items()},
                skip={str(k): str(v) for k, v in (raw.get("skip") or {}).items()},
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"{path} has an entry of the wrong shape ({exc}).",
                hint="Compare it with the comments at the top of contracts/collection.yaml.",
            ) from None


@dataclass(frozen=True)
class Operation:
    key: str  # "GET /api/patients/{id}"
    method: str
    path: str
    family: str
    kind: str  # list, create, retrieve, replace, update, delete, action
    success: int
    content_type: str | None
    scopes: tuple[str, ...]
    record_schema: str | None  # contracts-relative schema file of the record it answers
    query: tuple[tuple[str, JSON], ...]  # required query parameters (name, schema)
    request_content: str | None  # the document's request media type, if any

    @property
    def has_id(self) -> bool:
        return "{id}" in self.path


class _Contracts:
    """The contracts directory as the generator reads it."""

    def __init__(self, contracts_dir: Path) -> None:
        self.dir = contracts_dir
        index = json.loads(
            read_input_text(
                contracts_dir / "index.json", what="contracts index", hint=_CONTRACTS_HINT
            )
        )
        document = _openapi(contracts_dir / str(index["generated_from"]["document"]))
        self.operations: dict[str, Operation] = {}
        for key, entry in sorted(index["operations"].items()):
            method, path = key.split(" ", 1)
            if not path.startswith(API_PREFIX) or path == "/api/users/current":
                continue  # OAuth endpoints and the redirect: the smoke suite's and auth's business
            raw_op = document["paths"].get(path, {}).get(method.lower(), {})
            self.operations[key] = self._operation(key, method, path, entry, raw_op)
        self._schemas: dict[str, JSON] = {}

    @staticmethod
    def _operation(
        key: str, method: str, path: str, entry: Mapping[str, Any], raw_op: Mapping[str, Any]
    ) -> Operation:
        parts = path[len(API_PREFIX) :].split("/")
        successes = sorted(int(s) for s in entry["responses"] if s.startswith("2"))
        success = successes[0] if successes else 200
        if method in ("PUT", "PATCH", "DELETE") and 204 in successes:
            success = 204  # what DrChrono answers (FACTS), where the document lists 200 as well
        response = entry["responses"].get(str(success)) or {}
        query = tuple(
            (str(p["name"]), dict(p.get("schema") or {}))
            for p in raw_op.get("parameters") or []
            if p.get("in") == "query" and p.get("required")
        )
        content = (raw_op.get("requestBody") or {}).get("content") or {}
        return Operation(
            key=key,
            method=method,
            path=path,
            family=parts[0],
            kind=_kind(method, parts),
            success=success,
            content_type=response.get("content_type"),
            scopes=tuple(entry.get("scopes") or ()),
            record_schema=response.get("schema"),
            query=query,
            request_content=next(iter(content), None),
        )

    def schema(self, relative: str) -> JSON:
        if relative not in self._schemas:
            text = read_input_text(
                self.dir / relative, what="contract schema", hint=_CONTRACTS_HINT
            )
            self._schemas[relative] = json.loads(text)
        return self._schemas[relative]

    def record_schema(self, family: list[Operation]) -> JSON:
        """The schema of the family's record: what its create or retrieve answers."""
        for kind in ("create", "retrieve", "replace"):
            for op in family:
                if op.kind == kind and op.record_schema:
                    return self.schema(op.record_schema)
        return {}


@functools.lru_cache(maxsize=2)
def _openapi(path: Path) -> dict[str, Any]:
    """The parsed document, once per process (1 MB of YAML; only read here, never changed)."""
    return load_openapi(path)


def _kind(method: str, parts: list[str]) -> str:
    if len(parts) == 1:
        return {"GET": "list", "POST": "create"}.get(method, "action")
    if len(parts) == 2 and parts[1] == "{id}":
        return {"GET": "retrieve", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}[method]
    return "delete" if method == "DELETE" else "action"


# -- values ------------------------------------------------------------------------------------
class _Values:
    """Request values: references from the plan, otherwise a plain value of the schema's type."""

    def __init__(self, contracts: _Contracts, plan: CollectionPlan) -> None:
        self.contracts = contracts
        self.plan = plan
        self._slot = 0

    def reference(self, name: str) -> str | None:
        variable = self.plan.references.get(name)
        return None if variable is None else "{{" + variable + "}}"

    def body(self, schema: JSON) -> JSON:
        """Required fields plus every referencing field the record has, in schema order."""
        props: Mapping[str, Any] = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        body: JSON = {}
        for name, prop in props.items():
            prop = self._resolve(prop)
            if prop.get("readOnly"):
                continue
            optional_ref = self.plan.references.get(name) in SETUP_VARIABLES
            if name in required or optional_ref:
                body[name] = self.value(name, prop)
        start, end = body.get("start_time"), body.get("end_time")
        if isinstance(start, str) and isinstance(end, str):  # schema order gives the end first
            body["start_time"], body["end_time"] = sorted([start, end])
        return body

    def value(self, name: str, schema: Mapping[str, Any]) -> Any:
        ref = self.reference(name)
        if ref is not None:
            return ref
        enum = [e for e in schema.get("enum") or () if e not in ("", None)]
        if enum and not isinstance(enum[0], list | dict):
            return enum[0]
        kind = _primary_type(schema)
        fmt = schema.get("format")
        if kind == "integer":
            return 1
        if kind == "number":
            return 1.5
        if kind == "boolean":
            return False
        if kind == "array":
            return []
        if kind == "object":
            return {}
        if fmt == "date-time" or name.endswith(("_time", "_at")) or name == "scheduled_time":
            return self.moment()
        if fmt == "date" or name == "date" or name.endswith("_date"):
            return "{{appointment_date}}"
        if fmt == "binary":
            return "harness.txt"
        if fmt in ("uri", "url") or name in ("uri", "url"):
            return "https://harness.invalid/document"
        if "color" in name:
            return "#336699"
        return f"Harness {name.replace('_', ' ')}"

    def moment(self) -> str:
        """A distinct hour on the test day: created appointments never overlap."""
        hour = 7 + self._slot % 14
        self._slot += 1
        return "{{appointment_date}}" + f"T{hour:02d}:00:00"

    def _resolve(self, prop: Any) -> Mapping[str, Any]:
        if isinstance(prop, dict) and "$ref" in prop:
            ref = str(prop["$ref"])
            if not ref.startswith("#"):
                return self.contracts.schema(str(Path(ref).as_posix()).lstrip("./"))
        return prop if isinstance(prop, dict) else {}


def _primary_type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), "string")
    return str(kind or ("object" if "properties" in schema else "string"))


# -- Postman pieces ------------------------------------------------------------------------------
def _url(path: str, query: Mapping[str, str]) -> JSON:
    raw = "{{base_url}}" + path
    if query:
        raw += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    url: JSON = {"raw": raw, "host": ["{{base_url}}"], "path": path.strip("/").split("/")}
    if query:
        url["query"] = [{"key": k, "value": v} for k, v in query.items()]
    return url


def _request(
    name: str,
    method: str,
    path: str,
    tests: list[str],
    *,
    query: Mapping[str, str] | None = None,
    body: JSON | None = None,
    multipart: bool = False,
    auth: JSON | None = None,
    description: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSON:
    request: JSON = {"method": method, "header": [], "url": _url(path, query or {})}
    if body is not None and multipart:
        request["body"] = {
            "mode": "formdata",
            "formdata": [
                {"key": k, "value": v if isinstance(v, str) else json.dumps(v), "type": "text"}
                for k, v in body.items()
            ],
        }
    elif body is not None:
        request["header"] = [{"key": "Content-Type", "value": "application/json"}]
        request["body"] = {"mode": "raw", "raw": _json_body(body)}
    request["header"] += [{"key": k, "value": v} for k, v in (headers or {}).items()]
    if auth is not None:
        request["auth"] = auth
    if description:
        request["description"] = description
    item: JSON = {"name": name}
    if tests:
        item["event"] = [{"listen": "test", "script": {"type": "text/javascript", "exec": tests}}]
    item["request"] = request
    item["response"] = []
    return item


def _json_body(body: JSON) -> str:
    """JSON text where a value that is exactly one ``{{variable}}`` of an id is left unquoted."""
    text = json.dumps(body, indent=2)
    return re.sub(r'"(\{\{(?:[a-z_]+_id|exam_room|practice_group)\}\})"', r"\1", text)


def _status(code: int) -> str:
    return f'pm.test("status is {code}", () => pm.response.to.have.status({code}));'


def _bearer(token: str) -> JSON:
    return {"type": "bearer", "bearer": [{"key": "token", "value": token, "type": "string"}]}


def _check_plan(plan: CollectionPlan, operations: set[str], families: set[str]) -> None:
    """Refuse hand-edits that name what the document no longer has (stale, like corrections)."""
    stale = [
        f"{section} {key!r}"
        for section, keys in (
            ("queries", plan.queries),
            ("bodies", plan.bodies),
            ("captures", plan.captures),
            ("skip", plan.skip),
        )
        for key in keys
        if key not in operations
    ]
    stale += [
        f"{section} family {name!r}"
        for section, names in (
            ("fixtures", [f.family for f in plan.fixtures]),
            ("ids", list(plan.ids)),
            ("keys", list(plan.keys)),
        )
        for name in names
        if name not in families
    ]
    if stale:
        raise InputError(
            f"The collection plan names what the contracts no longer have: {', '.join(stale)}.",
            hint=f"Update or remove those entries in contracts/{PLAN_FILE} (operations are "
            "written 'METHOD /api/path' exactly as in contracts/index.json).",
        )


# -- the generator ---------------------------------------------------------------------------------
class _Generator:
    def __init__(self, contracts: _Contracts, plan: CollectionPlan) -> None:
        self.contracts = contracts
        self.plan = plan
        self.values = _Values(contracts, plan)
        families: dict[str, list[Operation]] = {}
        for op in contracts.operations.values():
            if op.key not in plan.skip:
                families.setdefault(op.family, []).append(op)
        _check_plan(plan, set(contracts.operations), set(families))
        first = [f for f in plan.order if f in families]
        self.families = {f: families[f] for f in first + sorted(set(families) - set(first))}
        self.appointment_fixture = self._create_body("appointments")

    def collection(self) -> JSON:
        folders = [self.setup_folder()]
        folders += [self.family_folder(name, ops) for name, ops in self.families.items()]
        folders.append(self.conflicts_folder())
        folders.append(self.throttling_folder())
        folders.append(self.teardown_folder())
        scopes = sorted({s for op in self.contracts.operations.values() for s in op.scopes})
        variables = {
            "base_url": "https://app.drchrono.com",
            "auth_base_url": "https://drchrono.com",
        }
        variables["redirect_uri"] = "https://oauth.pstmn.io/v1/browser-callback"
        variables.update(self.plan.variables)
        return {
            "info": {
                "_postman_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "drchrono-harness/full")),
                "name": COLLECTION_NAME,
                "description": (
                    "Every operation of DrChrono's OpenAPI document, one folder per resource "
                    "family, with its documented error statuses. Generated by `harness contracts "
                    "collection` from contracts/ and contracts/collection.yaml: do not edit by "
                    "hand. The Setup folder's limited-scope token uses the client_credentials "
                    "grant, which only the local sandbox offers."
                ),
                "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
            },
            "auth": _oauth2_block(scopes),
            "item": folders,
            "variable": [{"key": k, "value": v} for k, v in variables.items()],
        }

    # -- Setup / Teardown ----------------------------------------------------------------------
    def setup_folder(self) -> JSON:
        items = [
            _request(
                "Current user",
                "GET",
                "/api/users/current",
                [
                    _status(200),
                    'pm.collectionVariables.set("doctor_id", pm.response.json().doctor);',
                    'pm.collectionVariables.set("practice_group", '
                    "pm.response.json().practice_group);",
                ],
            ),
            _request(
                "An office and exam room",
                "GET",
                "/api/offices",
                [
                    _status(200),
                    'pm.collectionVariables.set("office_id", pm.response.json().results[0].id);',
                    'pm.collectionVariables.set("exam_room", '
                    "pm.response.json().results[0].exam_rooms[0].index);",
                ],
            ),
            self._fixture_create("patients", "patient_id", body=self.patient_body()),
            self._fixture_create("appointments", "appointment_id", body=self.appointment_fixture),
        ]
        for fixture in self.plan.fixtures:
            if fixture.create:
                items.append(self._fixture_create(fixture.family, fixture.variable))
            else:
                items.append(self._fixture_find(fixture.family, fixture.variable))
        items.append(
            _request(
                "A token without the API scopes",
                "POST",
                "/o/token/",
                [
                    _status(200),
                    'pm.collectionVariables.set("narrow_token", pm.response.json().access_token);',
                ],
                auth={"type": "noauth"},
                description=(
                    f"Sandbox only: a client_credentials token with just `{NARROW_SCOPE}`, for "
                    "the folders' 403 checks. Against DrChrono set `narrow_token` to a token "
                    "authorized with fewer scopes (`harness auth login --scope ...`)."
                ),
            )
        )
        token = items[-1]["request"]
        token["url"] = {
            "raw": "{{auth_base_url}}/o/token/",
            "host": ["{{auth_base_url}}"],
            "path": ["o", "token", ""],
        }
        token["body"] = {
            "mode": "urlencoded",
            "urlencoded": [
                {"key": "grant_type", "value": "client_credentials"},
                {"key": "client_id", "value": "{{client_id}}"},
                {"key": "client_secret", "value": "{{client_secret}}"},
                {"key": "scope", "value": NARROW_SCOPE},
            ],
        }
        return {
            "name": "Setup",
            "description": "Records and values the other folders point at.",
            "item": items,
        }

    def patient_body(self) -> JSON:
        schema = self.contracts.record_schema(self.families["patients"])
        body = self.values.body(schema)
        body.pop("patient", None)
        # Fixed, obviously fake identity: the Conflicts folder posts it again for the 409.
        return {"first_name": "Ada", "last_name": "Harness", "date_of_birth": "1984-03-02", **body}

    def _create_body(self, family: str) -> JSON:
        schema = self.contracts.record_schema(self.families[family])
        body = self.values.body(schema)
        create = f"POST {API_PREFIX}{family}"
        body.update(self.plan.bodies.get(create, {}))
        if family == "patients":
            body.pop("patient", None)
        return body

    def _fixture_create(self, family: str, variable: str, body: JSON | None = None) -> JSON:
        return _request(
            f"Create {family} fixture",
            "POST",
            f"{API_PREFIX}{family}",
            [
                _status(201),
                f'pm.collectionVariables.set("{variable}", pm.response.json().id);',
            ],
            body=body if body is not None else self._create_body(family),
        )

    def _fixture_find(self, family: str, variable: str) -> JSON:
        return _request(
            f"Find a {family} record",
            "GET",
            f"{API_PREFIX}{family}",
            [
                _status(200),
                f'pm.collectionVariables.set("{variable}", pm.response.json().results[0].id);',
            ],
        )

    def teardown_folder(self) -> JSON:
        created = [("patients", "patient_id"), ("appointments", "appointment_id")]
        created += [(f.family, f.variable) for f in self.plan.fixtures if f.create]
        items = [
            _request(
                f"Delete {family} fixture",
                "DELETE",
                f"{API_PREFIX}{family}/{{{{{variable}}}}}",
                [_status(204)],
            )
            for family, variable in reversed(created)
            if f"DELETE {API_PREFIX}{family}/{{id}}" in self.contracts.operations
        ]
        return {"name": "Teardown", "description": "Deletes what Setup created.", "item": items}

    def conflicts_folder(self) -> JSON:
        overlap = self.appointment_fixture  # the same doctor, room and time again
        return {
            "name": "Conflicts",
            "description": "409: a potential duplicate patient and an overlapping appointment.",
            "item": [
                _request(
                    "Duplicate patient",
                    "POST",
                    API_PREFIX + "patients",
                    [_status(409), _detail_test()],
                    body=self.patient_body(),
                ),
                _request(
                    "Overlapping appointment",
                    "POST",
                    API_PREFIX + "appointments",
                    [_status(409), _detail_test()],
                    body=overlap,
                ),
            ],
        }

    def throttling_folder(self) -> JSON:
        return {
            "name": "Throttling",
            "description": (
                "429: sandbox only. DrChrono throttles at 10 requests a second and 500 an hour, "
                "which no run can reach deterministically; the sandbox answers 429 when a request "
                "asks for it with X-Sandbox-Fault (DrChrono ignores the header, so against "
                "DrChrono this request gets 200 and fails)."
            ),
            "item": [
                _request(
                    "Throttled request",
                    "GET",
                    API_PREFIX + "patients",
                    [
                        _status(429),
                        _detail_test(),
                        'pm.test("it says when to come back", () => '
                        'pm.expect(pm.response.headers.get("Retry-After")).to.eql("3600"));',
                    ],
                    headers={"X-Sandbox-Fault": "429", "X-Sandbox-Retry-After": "3600"},
                )
            ],
        }

    # -- one family ------------------------------------------------------------------------------
    def family_folder(self, family: str, ops: list[Operation]) -> JSON:
        id_var = self.plan.ids.get(family, f"{family}_id")
        creates = family in self.plan.ids or any(op.kind == "create" for op in ops)
        captured = {
            "{{" + variable + "}}" for op in ops for variable in self.plan.captures.get(op.key, {})
        }

        create_query = {n for op in ops if op.kind == "create" for n, _ in op.query}

        def reads_capture(op: Operation) -> bool:  # a list of what this folder's create made
            one_record = op.kind == "list" and op.query and {n for n, _ in op.query} <= create_query
            return bool(one_record or captured & set(self.plan.queries.get(op.key, {}).values()))

        ordered = sorted(
            ops,
            key=lambda op: (
                op.kind == "delete",
                op.kind == "delete" and op.path.endswith("{id}"),
                KIND_ORDER["create"] + 0.5 if reads_capture(op) else KIND_ORDER.get(op.kind, 9),
                op.path,
                METHOD_ORDER[op.method],
            ),
        )
        items = [self.operation_request(op, id_var, creates) for op in ordered]
        deletes = [i for i, op in enumerate(ordered) if op.kind == "delete"]
        errors = self.error_requests(family, ops, id_var)
        cut = deletes[0] if deletes else len(items)
        items = items[:cut] + errors + items[cut:]
        folder: JSON = {"name": family, "item": items}
        if not any(op.kind == "create" for op in ops) and any(
            op.kind in ("replace", "update") for op in ops
        ):
            folder["description"] = (
                "Updates a record this folder did not create (the API has no create for it): "
                "against a live practice, leave this folder out or point its id at a test record."
            )
        return folder

    def operation_request(self, op: Operation, id_var: str, creates: bool) -> JSON:
        path = op.path.replace("{id}", "{{" + id_var + "}}")
        key = self.plan.keys.get(op.family, "id")
        query = self._query(op, id_var)
        tests = [_status(op.success)]
        json_answer = op.content_type == "application/json" and op.success != 204
        body: JSON | None = None
        if op.kind == "list" and json_answer and _is_page(op):
            tests.append(
                'pm.test("results are listed", () => '
                'pm.expect(pm.response.json().results).to.be.an("array"));'
            )
            if not creates:
                tests.append(
                    f'pm.collectionVariables.set("{id_var}", pm.response.json().results[0].{key});'
                )
        elif op.kind == "list" and json_answer and not creates and self._has_key(op, key):
            # A list that answers the one record it has (a doctor's work schedule).
            tests.append(f'pm.collectionVariables.set("{id_var}", pm.response.json().{key});')
        if op.kind == "create":
            body = self._create_body(op.family)
            if (
                json_answer
                and op.record_schema
                and not op.record_schema.startswith("schemas/operations/")
            ):
                tests.append(
                    f'pm.test("the new record has its {key}", () => '
                    f'pm.expect(pm.response.json()).to.have.property("{key}"));'
                )
                if op.family not in self.plan.ids:
                    tests.append(
                        f'pm.collectionVariables.set("{id_var}", pm.response.json().{key});'
                    )
        elif op.kind in ("replace", "update"):
            body = self._create_body(op.family)
            if op.kind == "update":
                body = {k: v for k, v in body.items() if k not in self.plan.references} or body
        elif op.method in ("POST", "PUT", "PATCH"):
            body = {}
        if op.kind == "retrieve" and json_answer and op.family not in self.plan.ids:
            tests.append(
                'pm.test("it is the record asked for", () => '
                f"pm.expect(String(pm.response.json().{key}))"
                f'.to.eql(String(pm.collectionVariables.get("{id_var}"))));'
            )
        if op.key in self.plan.bodies:
            body = {**(body or {}), **self.plan.bodies[op.key]}
        for variable, accessor in self.plan.captures.get(op.key, {}).items():
            tests.append(
                f'pm.collectionVariables.set("{variable}", pm.response.json().{accessor});'
            )
        multipart = op.request_content == "multipart/form-data"
        return _request(
            _name(op), op.method, path, tests, query=query, body=body, multipart=multipart
        )

    def _has_key(self, op: Operation, key: str) -> bool:
        if not op.record_schema:
            return False
        return key in (self.contracts.schema(op.record_schema).get("properties") or {})

    def _query(self, op: Operation, id_var: str) -> dict[str, str]:
        """The query parameters ``op`` needs: the required ones and the plan's."""
        query = {name: self._query_value(name, schema, id_var) for name, schema in op.query}
        query.update(self.plan.queries.get(op.key, {}))
        return query

    def _query_value(self, name: str, schema: Mapping[str, Any], id_var: str) -> str:
        if name == "id":
            return "{{" + id_var + "}}"
        value = self.values.value(name, schema)
        return value if isinstance(value, str) else json.dumps(value)

    def error_requests(self, family: str, ops: list[Operation], id_var: str) -> list[JSON]:
        errors: list[JSON] = []
        by_kind = {op.kind: op for op in sorted(ops, key=lambda o: o.key)}
        probe = by_kind.get("list") or by_kind.get("retrieve")
        retrieve = by_kind.get("retrieve")
        if retrieve is not None:
            errors.append(
                _request(
                    f"{family}: 404 for a record that does not exist",
                    "GET",
                    retrieve.path.replace("{id}", "{{missing_id}}"),
                    [_status(404), _detail_test()],
                    query=self._query(retrieve, id_var),
                )
            )
        if probe is not None:
            path = probe.path.replace("{id}", "{{" + id_var + "}}")
            # Complete but for the token: what the 401 or 403 answers is the token alone.
            query = self._query(probe, id_var)
            errors.append(
                _request(
                    f"{family}: 401 with a bad token",
                    "GET",
                    path,
                    [_status(401), _detail_test()],
                    query=query,
                    auth=_bearer(BAD_TOKEN),
                )
            )
            if any(s.endswith(":read") for s in probe.scopes):
                errors.append(
                    _request(
                        f"{family}: 403 without the scope",
                        "GET",
                        path,
                        [_status(403), _detail_test()],
                        query=query,
                        auth=_bearer("{{narrow_token}}"),
                    )
                )
        create = by_kind.get("create")
        if create is not None:
            schema = self.contracts.record_schema(ops)
            if schema.get("required") and create.request_content != "multipart/form-data":
                errors.append(
                    _request(
                        f"{family}: 400 without the required fields",
                        "POST",
                        create.path,
                        [_status(400)],
                        body={},
                    )
                )
        listed = by_kind.get("list")
        needed = (
            [name for name, _ in listed.query] + list(self.plan.queries.get(listed.key, {}))
            if listed
            else []
        )
        if listed is not None and needed:
            errors.append(
                _request(
                    f"{family}: 400 without the required filter",
                    "GET",
                    listed.path,
                    [_status(400)],
                )
            )
        return errors


def _is_page(op: Operation) -> bool:
    return bool(op.record_schema) and (
        str(op.record_schema).startswith("schemas/lists/") or "_list.200" in str(op.record_schema)
    )


def _detail_test() -> str:
    return (
        'pm.test("DrChrono says why", () => '
        'pm.expect(pm.response.json()).to.have.property("detail"));'
    )


def _name(op: Operation) -> str:
    verb = {
        "list": "List",
        "create": "Create",
        "retrieve": "Retrieve",
        "replace": "Replace",
        "update": "Update",
        "delete": "Delete",
    }.get(op.kind, op.method)
    rest = op.path[len(API_PREFIX) :].split("/", 2)
    tail = f" {rest[2]}" if len(rest) > 2 else ""
    if op.kind == "action" and len(rest) == 1:
        tail = " (collection)"
    if op.kind == "delete" and len(rest) > 2:
        verb = "Delete"
    return f"{verb} {op.family}{tail}"


def _oauth2_block(scopes: Iterable[str]) -> JSON:
    pairs = {
        "tokenName": "DrChronoToken",
        "grant_type": "authorization_code",
        "authUrl": "{{auth_base_url}}/o/authorize/",
        "accessTokenUrl": "{{auth_base_url}}/o/token/",
        "refreshTokenUrl": "{{auth_base_url}}/o/token/",
        "redirect_uri": "{{redirect_uri}}",
        "clientId": "{{client_id}}",
        "clientSecret": "{{client_secret}}",
        "scope": " ".join(scopes),
        "client_authentication": "body",
        "addTokenTo": "header",
        "headerPrefix": "Bearer",
    }
    return {
        "type": "oauth2",
        "oauth2": [{"key": k, "value": v, "type": "string"} for k, v in pairs.items()],
    }


def generate_collection(contracts_dir: Path, plan_path: Path | None = None) -> str:
    """The collection's JSON text (stable: the same inputs give the same bytes)."""
    plan = CollectionPlan.load(plan_path or contracts_dir / PLAN_FILE)
    collection = _Generator(_Contracts(contracts_dir), plan).collection()
    return json.dumps(collection, indent=2, ensure_ascii=False) + "\n"
