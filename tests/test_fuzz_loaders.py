"""Hostile input for every loader: mutated valid documents, truncations and raw bytes.

Each case must end in a parsed object or the project's own ``HarnessError`` (never another
exception, a hang, or a file written). Loaders run with the working directory set to an empty
temporary directory that must stay empty. Hypothesis is derandomized so CI is reproducible.

Inputs the generated cases rarely reach (nesting 100,000 deep, non-UTF-8 data, a CSV field over
128 KiB, ...) have their own deterministic tests at the bottom; each was a bug found here.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import paths
from harness.cassettes.errors import CassetteError
from harness.cassettes.persister import GuardedPersister, load_document
from harness.cassettes.serializer import ReadableYamlSerializer
from harness.collection import Collection, load_collection
from harness.contracts import ContractSet
from harness.errors import HarnessError, InputError
from harness.scenarios.loader import load_scenario_file
from harness.variables import load_iteration_data, load_variable_file

# Hypothesis fuzzing of every loader: minutes on 2 cores. `make test-slow` (and CI) runs it.
pytestmark = pytest.mark.slow

HANG_GUARD_S = 20  # a loader that takes this long on one small input is hung, not slow
MUTATION_DEPTH = 40  # nesting a mutation adds (far deeper input has its own tests below)


def fuzz_settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- running a loader under guard -------------------------------------------------------------


@contextlib.contextmanager
def hang_guard() -> Iterator[None]:
    def hung(signum: int, frame: Any) -> None:
        raise AssertionError(f"loader still running after {HANG_GUARD_S}s: hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_GUARD_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def load_guarded(files: dict[str, bytes], load: Callable[[Path], object]) -> object | None:
    """Write ``files`` to a fresh directory, run ``load(dir)`` from an empty cwd, check no writes."""
    with tempfile.TemporaryDirectory() as src, tempfile.TemporaryDirectory() as cwd:
        source = Path(src)
        for name, content in files.items():
            target = source / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        before = sorted(p.relative_to(source) for p in source.rglob("*"))
        previous = os.getcwd()
        os.chdir(cwd)
        try:
            with hang_guard():
                try:
                    return load(source)
                except HarnessError as error:
                    assert str(error).strip(), "a HarnessError must say something"
                    return None
        finally:
            os.chdir(previous)
            assert list(Path(cwd).iterdir()) == [], "the loader wrote into the working directory"
            assert sorted(p.relative_to(source) for p in source.rglob("*")) == before


def refused(files: dict[str, bytes], load: Callable[[Path], object]) -> HarnessError:
    """Like :func:`load_guarded`, but the load must be refused: the HarnessError it raised."""
    caught: list[HarnessError] = []

    def load_or_fail(directory: Path) -> object:
        try:
            load(directory)
        except HarnessError as error:
            caught.append(error)
            raise
        raise AssertionError("the input was accepted")

    load_guarded(files, load_or_fail)
    assert caught
    return caught[0]


# --- generating hostile documents ---------------------------------------------------------------

HUGE = "Ω" * 200_000
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            HUGE,
            "{{",
            "{{x}}",
            "{{$guid}}",
            "\x00",
            "\ud7ff\U0010ffff",
            "../../etc/passwd",
            "https://schema.getpostman.com/json/collection/v9.9.9/collection.json",
        ]
    ),
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def nest(depth: int, leaf: Any) -> Any:
    for level in range(depth):
        leaf = [leaf] if level % 2 else {"a": leaf}
    return leaf


def slots(doc: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in a JSON-like tree."""
    found: list[tuple[Any, Any]] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, value in items:
            found.append((node, key))
            stack.append(value)
    return found


@st.composite
def mutated(draw: st.DrawFn, base: Any, max_mutations: int = 4) -> Any:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, max_mutations))):
        places = slots(doc)
        if not places:
            return draw(values)
        container, key = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["delete", "replace", "retype", "nest", "add"]))
        if action == "delete":
            del container[key]
        elif action == "replace":
            container[key] = draw(values)
        elif action == "retype":
            current = container[key]
            container[key] = (
                [current]
                if isinstance(current, dict)
                else {"0": current}
                if isinstance(current, list)
                else str(current)
                if not isinstance(current, str)
                else draw(st.sampled_from([None, 0, 1.5, math.nan, [], {}, True]))
            )
        elif action == "nest":
            container[key] = nest(draw(st.integers(1, MUTATION_DEPTH)), container[key])
        elif isinstance(container, dict):
            container[draw(st.text(max_size=8))] = draw(values)
        else:
            container.append(draw(values))
    return doc


def as_json(doc: Any) -> bytes:
    return json.dumps(doc, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass")


def as_yaml(doc: Any) -> bytes:
    try:
        return yaml.safe_dump(doc, allow_unicode=True, width=10_000).encode(
            "utf-8", "surrogatepass"
        )
    except yaml.YAMLError:
        return b"{}"


@st.composite
def raw_variants(draw: st.DrawFn, valid: bytes) -> bytes:
    """Truncations, splices and plain random bytes."""
    kind = draw(st.sampled_from(["truncate", "splice", "random"]))
    if kind == "truncate":
        return valid[: draw(st.integers(0, len(valid)))]
    if kind == "splice":
        at = draw(st.integers(0, len(valid)))
        return valid[:at] + draw(st.binary(max_size=40)) + valid[at:]
    return draw(st.binary(max_size=300))


def utf8(data: bytes) -> bytes:
    return data.decode("utf-8", "replace").encode("utf-8")


# --- collections ------------------------------------------------------------------------------

COLLECTION = json.loads(paths.DEFAULT_COLLECTION.read_text())
SMALL_COLLECTION: dict[str, Any] = {
    "info": {
        "name": "small",
        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    "variable": [{"key": "base_url", "value": "http://127.0.0.1:1"}],
    "auth": {
        "type": "bearer",
        "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}],
    },
    "item": [
        {
            "name": "folder",
            "item": [
                {
                    "name": "upload",
                    "request": {
                        "method": "POST",
                        "url": {
                            "raw": "{{base_url}}/api/documents",
                            "host": ["{{base_url}}"],
                            "path": ["api", "documents"],
                            "query": [{"key": "a", "value": "1"}],
                        },
                        "header": [{"key": "X", "value": "y", "disabled": True}],
                        "body": {
                            "mode": "formdata",
                            "formdata": [
                                {"key": "document", "type": "file", "src": "doc.pdf"},
                                {"key": "description", "value": "d", "type": "text"},
                            ],
                        },
                    },
                },
                {
                    "name": "raw",
                    "event": [{"listen": "test", "script": {"exec": ["pm.test('x', () => {})"]}}],
                    "request": {
                        "method": "PUT",
                        "url": "{{base_url}}/api/x/:id",
                        "body": {
                            "mode": "raw",
                            "raw": '{"a": 1}',
                            "options": {"raw": {"language": "json"}},
                        },
                    },
                },
                {
                    "name": "file",
                    "request": {
                        "method": "POST",
                        "url": "{{base_url}}/api/y",
                        "body": {"mode": "file", "file": {"src": "up.bin"}},
                    },
                },
            ],
        },
    ],
}


def load_collection_in(directory: Path) -> object:
    return load_collection(directory / "c.json")


@fuzz_settings(700)
@given(st.one_of(mutated(SMALL_COLLECTION), mutated(COLLECTION, max_mutations=2)))
def test_collection_loader_survives_mutated_documents(doc: Any) -> None:
    load_guarded({"c.json": as_json(doc)}, load_collection_in)


@fuzz_settings(800)
@given(st.data())
def test_collection_loader_survives_raw_bytes(data: st.DataObject) -> None:
    load_guarded({"c.json": data.draw(raw_variants(as_json(SMALL_COLLECTION)))}, load_collection_in)


# --- environments and iteration data -------------------------------------------------------------

ENVIRONMENT = {
    "id": "0",
    "name": "env",
    "_postman_variable_scope": "environment",
    "values": [
        {"key": "base_url", "value": "http://127.0.0.1:1", "type": "default", "enabled": True},
        {"key": "refresh_token", "value": "r", "type": "secret", "enabled": False},
    ],
}
ROWS = [{"name": "Ann", "age": 3, "note": None}, {"name": "Bo", "nested": {"a": [1, 2]}}]


@fuzz_settings(1500)
@given(st.one_of(mutated(ENVIRONMENT), values))
def test_environment_loader_survives_mutated_documents(doc: Any) -> None:
    load_guarded({"e.json": as_json(doc)}, lambda d: load_variable_file(d / "e.json"))


@fuzz_settings(800)
@given(st.data())
def test_environment_loader_survives_raw_bytes(data: st.DataObject) -> None:
    load_guarded(
        {"e.json": data.draw(raw_variants(as_json(ENVIRONMENT)))},
        lambda d: load_variable_file(d / "e.json"),
    )


@fuzz_settings(1000)
@given(st.one_of(mutated(ROWS), values))
def test_iteration_data_json_survives_mutated_documents(doc: Any) -> None:
    load_guarded({"d.json": as_json(doc)}, lambda d: load_iteration_data(d / "d.json"))


@fuzz_settings(1000)
@given(st.data())
def test_iteration_data_survives_raw_text(data: st.DataObject) -> None:
    csv_text = b'name,age\nAnn,3\n"Bo, Jr",4\n'
    suffix = data.draw(st.sampled_from(["csv", "json"]))
    base = csv_text if suffix == "csv" else as_json(ROWS)
    raw = data.draw(raw_variants(base).map(utf8) | raw_variants(base))
    load_guarded({f"d.{suffix}": raw}, lambda d: load_iteration_data(d / f"d.{suffix}"))


# --- scenarios ----------------------------------------------------------------------------------

SCENARIO_COLLECTION: Collection = load_collection(paths.DEFAULT_COLLECTION)
SCENARIO_TEXT = (paths.SCENARIOS_DIR / "patients.yaml").read_bytes()
SCENARIO = yaml.safe_load(SCENARIO_TEXT)


def load_scenarios_in(directory: Path) -> object:
    return load_scenario_file(directory / "s.yaml", SCENARIO_COLLECTION)


@fuzz_settings(400)
@given(mutated(SCENARIO))
def test_scenario_loader_survives_mutated_documents(doc: Any) -> None:
    load_guarded({"s.yaml": as_yaml(doc)}, load_scenarios_in)


@fuzz_settings(800)
@given(st.data())
def test_scenario_loader_survives_raw_bytes(data: st.DataObject) -> None:
    load_guarded({"s.yaml": data.draw(raw_variants(SCENARIO_TEXT))}, load_scenarios_in)


# --- contracts ----------------------------------------------------------------------------------

CONTRACT_INDEX = json.loads((paths.CONTRACTS_DIR / "index.json").read_text())
KEPT_OPERATIONS = ["GET /api/doctors", "GET /api/doctors/{id}", "POST /api/patients"]


def small_contracts() -> tuple[dict[str, Any], dict[str, bytes]]:
    """A three-operation contract set (index plus the schema files those operations name)."""
    index = {
        **CONTRACT_INDEX,
        "operations": {k: CONTRACT_INDEX["operations"][k] for k in KEPT_OPERATIONS},
    }
    schemas: dict[str, bytes] = {}
    for op in index["operations"].values():
        for response in op["responses"].values():
            if response.get("schema"):
                schemas[response["schema"]] = (
                    paths.CONTRACTS_DIR / response["schema"]
                ).read_bytes()
    # Schemas may refer to shared ones: ship every schema that a kept one mentions by file name.
    every = {
        p.relative_to(paths.CONTRACTS_DIR).as_posix(): p.read_bytes()
        for p in (paths.CONTRACTS_DIR / "schemas").rglob("*.json")
    }
    while True:
        wanted = {
            name
            for name in every
            if name not in schemas
            and any(name.rsplit("/", 1)[-1].encode() in text for text in schemas.values())
        }
        if not wanted:
            return index, schemas
        schemas.update((name, every[name]) for name in wanted)


SMALL_INDEX, SMALL_SCHEMAS = small_contracts()


def load_contracts_in(directory: Path) -> object:
    contracts = ContractSet.load(directory)
    # Loading is lazy about compiling: exercise a check against every kept operation too.
    for key in KEPT_OPERATIONS:
        method, path = key.split(" ", 1)
        contracts.check(
            method=method,
            url="http://h" + path.replace("{id}", "5"),
            status=200,
            content_type="application/json",
            body=b'{"id": 5}',
        )
    return contracts


def test_the_small_contract_set_is_valid() -> None:
    assert load_guarded({"index.json": as_json(SMALL_INDEX), **SMALL_SCHEMAS}, load_contracts_in)


@fuzz_settings(700)
@given(mutated(SMALL_INDEX))
def test_contract_index_survives_mutations(index: Any) -> None:
    load_guarded({"index.json": as_json(index), **SMALL_SCHEMAS}, load_contracts_in)


@pytest.mark.parametrize("operation", [[], {"responses": []}, {"responses": {"200": "x"}}, {}])
def test_structurally_wrong_contract_index_is_an_input_error(operation: Any) -> None:
    index = {**SMALL_INDEX, "operations": {"GET /api/doctors": operation}}
    error = refused({"index.json": as_json(index), **SMALL_SCHEMAS}, ContractSet.load)
    assert isinstance(error, InputError)
    assert "index.json" in str(error) and "GET /api/doctors" in str(error)


def test_a_schema_file_that_is_not_a_schema_is_an_input_error() -> None:
    # Refused when the contracts are loaded, not when the first response is judged.
    error = refused(
        {
            "index.json": as_json(SMALL_INDEX),
            **SMALL_SCHEMAS,
            "schemas/Doctor.json": b'{"type": 5}',
        },
        ContractSet.load,
    )
    assert isinstance(error, InputError)
    assert "Doctor.json" in str(error) and "not a valid JSON Schema" in str(error)


def test_schemas_that_do_not_fit_together_are_an_input_error_when_first_used() -> None:
    # Each file is a schema, but the $ref points nowhere: found when the schema is compiled.
    doctor = json.loads(SMALL_SCHEMAS["schemas/Doctor.json"])
    doctor["properties"] = {**doctor.get("properties", {}), "x": {"$ref": "Nowhere.json"}}
    error = refused(
        {
            "index.json": as_json(SMALL_INDEX),
            **SMALL_SCHEMAS,
            "schemas/Doctor.json": as_json(doctor),
        },
        load_contracts_in,
    )
    assert isinstance(error, InputError) and "Doctor.json" in str(error)


@fuzz_settings(300)
@given(st.data())
def test_contract_index_survives_raw_bytes(data: st.DataObject) -> None:
    load_guarded(
        {"index.json": data.draw(raw_variants(as_json(SMALL_INDEX))), **SMALL_SCHEMAS},
        load_contracts_in,
    )


@fuzz_settings(250)
@given(st.data())
def test_contract_schema_files_survive_mutations(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(SMALL_SCHEMAS)))
    schema = json.loads(SMALL_SCHEMAS[name])
    broken = data.draw(st.one_of(mutated(schema).map(as_json), raw_variants(SMALL_SCHEMAS[name])))
    load_guarded(
        {"index.json": as_json(SMALL_INDEX), **SMALL_SCHEMAS, name: broken}, load_contracts_in
    )


BODY_CONTRACTS = ContractSet.load(paths.CONTRACTS_DIR)


@fuzz_settings(1500)
@given(
    st.one_of(values.map(as_json), st.binary(max_size=200)),
    st.sampled_from([None, "application/json", "text/html", "", "application/json; charset=x"]),
    st.sampled_from([200, 201, 204, 400, 404, 500]),
)
def test_contract_check_judges_any_response_body(
    body: bytes, content_type: str | None, status: int
) -> None:
    for method, url in (
        ("GET", "http://h/api/doctors"),
        ("GET", "http://h/api/patients/7"),
        ("POST", "http://h/api/patients"),
    ):
        report = BODY_CONTRACTS.check(
            method=method, url=url, status=status, content_type=content_type, body=body
        )
        assert report.operation is not None


# --- cassettes ----------------------------------------------------------------------------------

CASSETTE: dict[str, Any] = {
    "version": 1,
    "interactions": [
        {
            "request": {
                "method": "GET",
                "uri": "http://127.0.0.1:1/api/doctors?page=1",
                "body": None,
                "headers": {"Accept": ["application/json"]},
            },
            "response": {
                "status": {"code": 200, "message": "OK"},
                "headers": {"Content-Type": ["application/json"]},
                "body": {"string": '{"results": [{"id": 1}]}'},
            },
        }
    ],
}
SERIALIZER = ReadableYamlSerializer()


def load_cassette_both_ways(directory: Path) -> object:
    path = directory / "c.yaml"
    shown = load_document(path)  # harness cassettes show
    try:
        return GuardedPersister().load_cassette(path, SERIALIZER), shown  # replay
    except Exception as error:
        if type(error).__name__ == "CassetteNotFoundError":  # VCR's "record me" signal
            return None
        raise


def test_the_base_cassette_is_valid() -> None:
    assert load_guarded({"c.yaml": as_yaml(CASSETTE)}, load_cassette_both_ways)


@fuzz_settings(400)
@given(mutated(CASSETTE))
def test_cassette_loaders_survive_mutated_documents(doc: Any) -> None:
    load_guarded({"c.yaml": as_yaml(doc)}, load_cassette_both_ways)


@fuzz_settings(800)
@given(st.data())
def test_cassette_loaders_survive_raw_bytes(data: st.DataObject) -> None:
    load_guarded({"c.yaml": data.draw(raw_variants(as_yaml(CASSETTE)))}, load_cassette_both_ways)


# --- bugs found by the generated cases: deterministic repros ------------------------------------

DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
DEEP_YAML = b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"


def assert_input_error_naming(error: HarnessError, name: str) -> None:
    assert isinstance(error, InputError) and name in str(error), error


def test_deeply_nested_collection_is_an_input_error() -> None:
    assert_input_error_naming(refused({"c.json": DEEP_JSON}, load_collection_in), "c.json")


def test_deeply_nested_environment_is_an_input_error() -> None:
    error = refused({"e.json": DEEP_JSON}, lambda d: load_variable_file(d / "e.json"))
    assert_input_error_naming(error, "e.json")


def test_deeply_nested_iteration_data_is_an_input_error() -> None:
    error = refused({"d.json": DEEP_JSON}, lambda d: load_iteration_data(d / "d.json"))
    assert_input_error_naming(error, "d.json")


@pytest.mark.parametrize("depth", [250, 900])
def test_json_nested_past_the_limit_is_an_input_error(depth: int) -> None:
    # Deep enough to pass the parser yet trouble for what reads the document afterwards.
    folders: Any = {"name": "r", "request": "http://h/x"}
    for _ in range(depth // 2):
        folders = {"name": "f", "item": [folders]}
    doc = {**SMALL_COLLECTION, "item": [folders]}
    assert_input_error_naming(refused({"c.json": as_json(doc)}, load_collection_in), "c.json")


PROBE = """
import sys
from pathlib import Path
from harness.errors import HarnessError
from harness import paths
kind, path = sys.argv[1], Path(sys.argv[2])
try:
    if kind == "scenario":
        from harness.collection import load_collection
        from harness.scenarios.loader import load_scenario_file
        load_scenario_file(path, load_collection(paths.DEFAULT_COLLECTION))
    else:
        from harness.cassettes.persister import load_document
        load_document(path)
except HarnessError as error:
    print(type(error).__name__, path.name in str(error))
"""


def probe_in_subprocess(kind: str, content: bytes, tmp_path: Path) -> str:
    """Deep YAML can overflow the C stack (a segfault), so it is loaded in a child process."""
    path = tmp_path / "deep.yaml"
    path.write_bytes(content)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, kind, str(path)],
        cwd=paths.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return f"exit {done.returncode}: {done.stdout.strip()} {done.stderr[-300:]}"


def test_deeply_nested_scenario_is_an_input_error(tmp_path: Path) -> None:
    assert probe_in_subprocess("scenario", DEEP_YAML, tmp_path) == "exit 0: ScenarioError True "


def test_deeply_nested_cassette_is_a_cassette_error(tmp_path: Path) -> None:
    assert probe_in_subprocess("cassette", DEEP_YAML, tmp_path) == "exit 0: CassetteError True "


def test_deeply_nested_response_body_is_a_contract_violation() -> None:
    report = BODY_CONTRACTS.check(
        method="GET",
        url="http://h/api/doctors",
        status=200,
        content_type="application/json",
        body=DEEP_JSON,
    )
    assert [v.rule for v in report.violations] == ["json"]
    assert "nested too deeply" in report.violations[0].message


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_non_utf8_iteration_data_is_an_input_error(suffix: str) -> None:
    error = refused(
        {f"d.{suffix}": b"\xff\xfename\n\x80\n"}, lambda d: load_iteration_data(d / f"d.{suffix}")
    )
    assert_input_error_naming(error, f"d.{suffix}")
    assert "UTF-8" in str(error)


def test_huge_csv_field_is_an_input_error() -> None:
    error = refused(
        {"d.csv": b"name\n" + b"x" * 200_000 + b"\n"}, lambda d: load_iteration_data(d / "d.csv")
    )
    assert_input_error_naming(error, "d.csv")


def test_body_options_of_the_wrong_type_are_an_input_error() -> None:
    doc: Any = copy.deepcopy(SMALL_COLLECTION)
    doc["item"][0]["item"][1]["request"]["body"]["options"]["raw"] = [{"language": "json"}]
    error = refused({"c.json": as_json(doc)}, load_collection_in)
    assert_input_error_naming(error, "c.json")
    assert "body.options.raw" in str(error)


def test_cassette_header_with_no_values_is_a_cassette_error() -> None:
    doc: Any = copy.deepcopy(CASSETTE)
    doc["interactions"][0]["request"]["headers"]["Accept"] = []
    files = {"c.yaml": as_yaml(doc)}
    for load in (
        lambda d: load_document(d / "c.yaml"),  # harness cassettes show
        lambda d: GuardedPersister().load_cassette(d / "c.yaml", SERIALIZER),
    ):  # replay
        error = refused(files, load)
        assert isinstance(error, CassetteError) and "c.yaml" in str(error), error
