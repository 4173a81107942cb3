"""The loaded contract set: operation lookup and response checks for the runner."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.contracts.bundle import bundle
from harness.contracts.coverage import Coverage
from harness.contracts.importer import INDEX_FILE, INDEX_FORMAT, SCHEMAS_DIR
from harness.contracts.integrity import check_index, check_schema_file
from harness.contracts.operations import PathMatcher, request_path
from harness.contracts.report import ContractReport, Violation
from harness.contracts.requests import (
    REQUESTS_FILE,
    REQUESTS_FORMAT,
    RequestContract,
    check_request,
)
from harness.contracts.validation import CompiledSchema
from harness.errors import InputError
from harness.json_input import MAX_JSON_NESTING, JSONNestingError, loads_json


class ContractSet:
    def __init__(
        self,
        index: dict[str, Any],
        files: dict[str, dict[str, Any]],
        source: str,
        requests: dict[str, Any] | None = None,
    ) -> None:
        self._source = source
        self._operations: dict[str, dict[str, Any]] = index["operations"]
        # requests.json (request parameters and bodies); absent in contract sets made before it.
        self._requests: dict[str, dict[str, Any]] = (requests or {}).get("operations") or {}
        self._request_contracts: dict[str, RequestContract] = {}
        self._files = files
        templates: dict[str, set[str]] = {}
        for op in self._operations.values():
            templates.setdefault(op["path"], set()).add(op["method"])
        self._matcher = PathMatcher(templates)
        self._compiled: dict[str, CompiledSchema] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, directory: Path) -> ContractSet:
        """Read and check ``index.json`` and every schema under ``schemas/``.

        Anything malformed is an :class:`InputError` here, so that judging a response never
        trips over the contract itself. Validators compile lazily, once per schema file.
        """
        index_path = directory / INDEX_FILE
        index = _read_json(index_path)
        files: dict[str, dict[str, Any]] = {}
        for path in sorted((directory / SCHEMAS_DIR).rglob("*.json")):
            schema = _read_json(path)
            check_schema_file(path, schema)
            files[path.relative_to(directory).as_posix()] = schema
        check_index(index, index_path, set(files), index_format=INDEX_FORMAT)
        requests_path = directory / REQUESTS_FILE
        requests = _read_json(requests_path) if requests_path.is_file() else None
        if requests is not None and (
            not isinstance(requests, dict)
            or requests.get("format") != REQUESTS_FORMAT
            or not isinstance(requests.get("operations"), dict)
        ):
            raise InputError(
                f"Contract file {requests_path} is not a request contract index "
                f"(format {REQUESTS_FORMAT} with 'operations').",
                hint="Run `harness contracts import` to generate the contracts.",
            )
        return cls(index, files, str(directory), requests)

    @classmethod
    def from_files(cls, files: dict[str, str]) -> ContractSet:
        """A contract set from ``build_contracts`` output, without touching the disk."""
        parsed = {name: json.loads(text) for name, text in files.items()}
        index = parsed.pop(INDEX_FILE)
        requests = parsed.pop(REQUESTS_FILE, None)
        return cls(index, parsed, "<memory>", requests)

    # --- lookup ---------------------------------------------------------------------------

    def operations(self) -> list[tuple[str, str, tuple[int, ...]]]:
        return sorted(
            (op["method"], op["path"], tuple(sorted(int(s) for s in op["responses"])))
            for op in self._operations.values()
        )

    def operation(self, key: str) -> dict[str, Any] | None:
        return self._operations.get(key)

    def request_contract(self, method: str, url: str) -> RequestContract | None:
        """What the operation ``url`` names accepts (parameters, body), if the contracts say."""
        match = self._matcher.match(request_path(url))
        if match is None:
            return None
        key = f"{method.upper()} {match.template}"
        contract = self._request_contracts.get(key)
        if contract is None:
            data = self._requests.get(key)
            if not isinstance(data, dict):
                return None
            # Built once per operation; two threads may both build one, either serves.
            contract = self._request_contracts[key] = RequestContract.from_json(key, data)
        return contract

    def request_body_schema(self, method: str, url: str) -> dict[str, Any] | None:
        """The schema file a JSON request body of this operation must meet (its top level:
        ``properties`` and ``required``; nested schemas stay ``$ref``s)."""
        contract = self.request_contract(method, url)
        if contract is None or contract.body_schema is None:
            return None
        return self._files.get(contract.body_schema)

    def record_schema(self, method: str, url: str) -> dict[str, Any] | None:
        """The schema file of the record a create or update makes (its top level): a POST's
        201/200 response schema, else the 200 schema of GET on the same path."""
        match = self._matcher.match(request_path(url))
        if match is None:
            return None
        for key in (f"{method.upper()} {match.template}", f"GET {match.template}"):
            responses = (self._operations.get(key) or {}).get("responses") or {}
            for status in ("201", "200"):
                schema_file = (responses.get(status) or {}).get("schema")
                if schema_file and not schema_file.startswith(f"{SCHEMAS_DIR}/lists/"):
                    return self._files.get(schema_file)
        return None

    def collection_paths(self) -> list[str]:
        """Paths of the documented list endpoints (GET without path parameters)."""
        return sorted(
            op["path"]
            for op in self._operations.values()
            if op["method"] == "GET" and "{" not in op["path"]
        )

    def check_request(
        self, method: str, url: str, content_type: str | None, body: bytes | None
    ) -> list[str]:
        """Why the published API would reject this request, as messages (empty: nothing found).

        Checked: required query parameters present, path and query values of their documented
        type, a JSON body against the request schema (a PATCH's may leave required fields out).
        Values never appear in a message (they may be patient data).
        """
        contract = self.request_contract(method, url)
        if contract is None:
            return []
        return check_request(contract, url, content_type, body, self.compiled)

    def required_scopes(self, method: str, url: str) -> list[str]:
        match = self._matcher.match(request_path(url))
        if match is None:
            return []
        op = self._operations.get(f"{method.upper()} {match.template}")
        return list(op["scopes"]) if op else []

    def coverage(self, exercised: Iterable[tuple[str, int]]) -> Coverage:
        defined = {
            key: tuple(sorted(int(s) for s in op["responses"]))
            for key, op in self._operations.items()
        }
        return Coverage.build(defined, exercised)

    def compiled(self, schema_file: str) -> CompiledSchema:
        """The compiled validator for one schema file (built once, shared by threads)."""
        compiled = self._compiled.get(schema_file)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(schema_file)
                if compiled is None:
                    compiled = self._compile(schema_file)
                    self._compiled[schema_file] = compiled
        return compiled

    def _compile(self, schema_file: str) -> CompiledSchema:
        # Each file passed the metaschema at load; what is left to fail here is how they fit
        # together: a $ref to a missing file or pointer, or a pattern that is not a regex.
        try:
            return CompiledSchema(bundle(schema_file, self._files))
        except Exception as error:
            raise InputError(
                f"Contract schema {Path(self._source) / schema_file} cannot be compiled "
                f"({type(error).__name__}: {_first_line(error)}).",
                hint="Regenerate the contracts with `harness contracts import`, or fix its "
                "$ref and pattern values.",
            ) from None

    # --- checking -------------------------------------------------------------------------

    def check(
        self,
        *,
        method: str,
        url: str,
        status: int,
        content_type: str | None,
        body: bytes | str | None,
        strict: bool = False,
    ) -> ContractReport:
        method = method.upper()
        path = request_path(url)
        match = self._matcher.match(path)
        if match is None:
            return ContractReport(operation=None)
        violations: list[Violation] = []
        if match.trailing_slash_mismatch:
            want = path[:-1] if path.endswith("/") else path + "/"
            violations.append(
                Violation(
                    "$",
                    "trailing_slash",
                    match.template,
                    "/" if path.endswith("/") else "no slash",
                    f"trailing-slash mismatch: the contract path is {match.template}, so request {want}"
                    f" instead of {path}",
                )
            )
        key = f"{method} {match.template}"
        op = self._operations.get(key)
        if op is None:
            if status != 405:
                allowed = ", ".join(sorted(match.methods))
                violations.append(
                    Violation(
                        "$",
                        "method",
                        allowed,
                        method,
                        f"{method} is not documented for {match.template}; documented: {allowed}",
                    )
                )
            return ContractReport(operation=None, violations=violations)
        report = ContractReport(operation=key, violations=violations)
        response = op["responses"].get(str(status))
        if response is None:
            documented = ", ".join(sorted(op["responses"]))
            report.violations.append(
                Violation(
                    "$",
                    "status",
                    f"one of {documented}",
                    str(status),
                    f"status {status} is not documented for {key}; documented: {documented}",
                )
            )
            return report
        self._check_body(response, content_type, body, strict, report)
        return report

    def _check_body(
        self,
        response: dict[str, Any],
        content_type: str | None,
        body: bytes | str | None,
        strict: bool,
        report: ContractReport,
    ) -> None:
        raw = body.encode() if isinstance(body, str) else (body or b"")
        kind = response["body"]
        if kind == "empty":
            if raw.strip():
                report.violations.append(
                    Violation(
                        "$",
                        "empty_body",
                        "empty body",
                        f"{len(raw)} bytes",
                        f"expected an empty body, got {len(raw)} bytes",
                    )
                )
            return
        expected_type = response.get("content_type")
        actual_type = (content_type or "").split(";", 1)[0].strip().lower()
        if expected_type and actual_type != expected_type:
            report.violations.append(
                Violation(
                    "$",
                    "content_type",
                    expected_type,
                    actual_type or "none",
                    f"expected content type {expected_type}, got {actual_type or 'none'}",
                )
            )
        if kind != "json":
            return
        if not raw.strip():
            report.violations.append(
                Violation(
                    "$",
                    "json",
                    "a JSON body",
                    "empty body",
                    "expected a JSON body, got an empty body",
                )
            )
            return
        try:
            # No depth limit past what the parser can take: validation and the drift walk only
            # descend as deep as the schema does.
            instance = loads_json(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            where = (
                f" at line {exc.lineno} column {exc.colno}"
                if isinstance(exc, json.JSONDecodeError)
                else ""
            )
            detail = (
                exc.msg
                if isinstance(exc, json.JSONDecodeError)
                else str(exc)
                if isinstance(exc, JSONNestingError)
                else "not UTF-8"
            )
            report.violations.append(
                Violation(
                    "$",
                    "json",
                    "valid JSON",
                    f"malformed ({len(raw)} bytes)",
                    f"body is not valid JSON: {detail}{where}",
                )
            )
            return
        schema_file = response.get("schema")
        if schema_file is None:
            return
        violations, drift = self.compiled(schema_file).check(instance)
        report.violations.extend(violations)
        report.drift.extend(drift)
        if strict:
            report.violations.extend(
                Violation(
                    path,
                    "drift",
                    "no undocumented fields",
                    "unknown field",
                    f"field {path} is not in the contract (strict mode)",
                )
                for path in report.drift
            )


def _read_json(path: Path) -> Any:
    try:
        return loads_json(path.read_text(encoding="utf-8"), max_nesting=MAX_JSON_NESTING)
    except OSError as exc:
        raise InputError(
            f"Cannot read contract file {path}: {exc.strerror}.",
            hint="Run `harness contracts import` to generate the contracts.",
        ) from None
    except ValueError as exc:  # also UnicodeDecodeError and JSONNestingError
        raise InputError(f"Contract file {path} is not valid JSON ({exc}).") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else "no detail"
