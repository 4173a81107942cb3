"""pm.variables / environment / collectionVariables / globals / iterationData and Newman's scopes."""

from __future__ import annotations

from harness.scripting import VariableChange
from harness.variables import Resolver, Scopes
from tests.scripting_support import messages, run_prerequest, run_test, scopes


def _layered() -> Scopes:
    return scopes(
        globals={"who": "global", "g": "1"},
        collection={"who": "collection", "c": "1"},
        environment={"who": "environment", "e": "1"},
        data={"who": "data", "d": "1"},
    )


def test_get_resolves_local_then_data_environment_collection_globals() -> None:
    scope = _layered()
    code = """
    pm.test("layers", () => {
        pm.expect(pm.variables.get("who")).to.equal("data");
        pm.variables.set("who", "local");
        pm.expect(pm.variables.get("who")).to.equal("local");
        pm.expect(pm.environment.get("who")).to.equal("environment");
        pm.expect(pm.collectionVariables.get("who")).to.equal("collection");
        pm.expect(pm.globals.get("who")).to.equal("global");
        pm.expect(pm.iterationData.get("who")).to.equal("data");
        pm.expect(pm.variables.has("g")).to.be.true;
        pm.expect(pm.environment.has("g")).to.be.false;
        pm.expect(pm.variables.get("nothing")).to.be.undefined;
        pm.expect(pm.variables.toObject()).to.include({who: "local", g: "1", c: "1", e: "1", d: "1"});
        pm.expect(pm.variables.replaceIn("{{who}}-{{missing}}")).to.equal("local-{{missing}}");
    });
    """
    outcome = run_test(code, scope=scope)
    assert messages(outcome) == {"layers": ""}
    # pm.variables.set is a local variable: it lives for the rest of the run (as in Newman).
    assert scope.local == {"who": "local"}
    assert Resolver(scope).resolve("{{who}}", "test") == "local"


def test_set_and_unset_in_every_scope_reach_the_run_and_later_requests() -> None:
    scope = _layered()
    code = """
    pm.environment.set("token_id", 42);
    pm.collectionVariables.set("patient", {id: 7});
    pm.globals.set("flag", true);
    pm.environment.unset("e");
    pm.globals.clear();
    pm.iterationData.unset("d");
    """
    outcome = run_test(code, scope=scope)
    assert not outcome.failures
    assert scope.environment == {"who": "environment", "token_id": "42"}
    assert scope.collection["patient"] == '{"id":7}'
    assert scope.globals == {}
    assert "d" not in scope.data
    assert outcome.variable_changes[:3] == (
        VariableChange("environment", "token_id", "42"),
        VariableChange("collection", "patient", '{"id":7}'),
        VariableChange("globals", "flag", "true"),
    )
    assert VariableChange("globals", "*", None) in outcome.variable_changes
    # A later script execution sees the first one's changes: no state lives in the engine.
    later = run_prerequest(
        "pm.test('seen', () => pm.expect(pm.variables.get('token_id')).to.equal('42'));",
        scope=scope,
    )
    assert messages(later) == {"seen": ""}


def test_environment_reads_see_env_var_and_os_values_as_placeholders_do() -> None:
    scope = Scopes(
        environment={"client_id": "from-file", "mode": "file"},
        environment_overrides={"mode": "cli"},
        os_environ={"DRCHRONO_CLIENT_ID": "from-os", "DRCHRONO_ONLY_OS": "os"},
    )
    code = """
    pm.test("env", () => {
        pm.expect(pm.environment.get("client_id")).to.equal("from-os");
        pm.expect(pm.environment.get("mode")).to.equal("cli");
        pm.expect(pm.variables.get("only_os")).to.equal("os");
        pm.expect(pm.environment.toObject()).to.eql({client_id: "from-os", mode: "cli"});
    });
    pm.environment.set("mode", "script");
    pm.test("script wins over --env-var", () => pm.expect(pm.environment.get("mode")).to.equal("script"));
    """
    outcome = run_test(code, scope=scope)
    assert messages(outcome) == {"env": "", "script wins over --env-var": ""}
    assert Resolver(scope).resolve("{{mode}}", "test") == "script"


def test_no_state_leaks_between_executions() -> None:
    scope = scopes()
    run_test("var leaked = 1; globalThis.alsoLeaked = 2; pm.expect.extra = 3;", scope=scope)
    outcome = run_test(
        "pm.test('fresh', () => { pm.expect(typeof leaked).to.equal('undefined');"
        " pm.expect(typeof alsoLeaked).to.equal('undefined'); pm.expect(pm.expect.extra).to.be.undefined; });",
        scope=scope,
    )
    assert messages(outcome) == {"fresh": ""}
