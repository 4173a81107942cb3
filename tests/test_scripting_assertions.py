"""pm.test / pm.expect / pm.response.to: results and Newman's (Chai's) failure messages."""

from __future__ import annotations

import pytest

from tests.scripting_support import json_response, messages, run_test


@pytest.mark.parametrize(
    ("assertion", "message"),
    [
        ("pm.expect(pm.response.code).to.equal(201)", "expected 200 to equal 201"),
        (
            "pm.response.to.have.status(201)",
            "expected response to have status code 201 but got 200",
        ),
        (
            "pm.response.to.have.status('Created')",
            "expected response to have status reason 'Created' but got 'OK'",
        ),
        ("pm.expect({a: 1}).to.eql({a: 2})", "expected { a: 1 } to deeply equal { a: 2 }"),
        ("pm.expect(5).to.be.above(7)", "expected 5 to be above 7"),
        ("pm.expect(5).to.be.below(1)", "expected 5 to be below 1"),
        ("pm.expect(5).to.be.within(6, 9)", "expected 5 to be within 6..9"),
        ("pm.expect(5).to.be.oneOf([1, 2])", "expected 5 to be one of [ 1, 2 ]"),
        ("pm.expect({a: 1}).to.have.property('b')", "expected { a: 1 } to have property 'b'"),
        (
            "pm.expect({a: 1}).to.have.property('a', 2)",
            "expected { a: 1 } to have property 'a' of 2, but got 1",
        ),
        (
            "pm.expect({a: {b: [1]}}).to.have.nested.property('a.b[1]')",
            "expected { a: { b: [ 1 ] } } to have nested property 'a.b[1]'",
        ),
        (
            "pm.expect([1, 2]).to.have.lengthOf(3)",
            "expected [ 1, 2 ] to have a length of 3 but got 2",
        ),
        ("pm.expect('abc').to.match(/z/)", "expected 'abc' to match /z/"),
        ("pm.expect('abc').to.be.a('number')", "expected 'abc' to be a number"),
        ("pm.expect(1).to.be.an('array')", "expected 1 to be an array"),
        ("pm.expect(0).to.be.ok", "expected 0 to be truthy"),
        ("pm.expect(false).to.be.true", "expected false to be true"),
        ("pm.expect(1).to.be.null", "expected 1 to be null"),
        ("pm.expect(1).to.be.undefined", "expected 1 to be undefined"),
        ("pm.expect([1]).to.be.empty", "expected [ 1 ] to be empty"),
        ("pm.expect(null).to.exist", "expected null to exist"),
        ("pm.expect('abc').to.include('z')", "expected 'abc' to include 'z'"),
        ("pm.expect([1, 2]).to.not.include(2)", "expected [ 1, 2 ] to not include 2"),
        ("pm.expect({a: 1}).to.include({b: 2})", "expected { a: 1 } to have property 'b'"),
        (
            "pm.expect({a: 1}).to.include({a: 2})",
            "expected { a: 1 } to have property 'a' of 2, but got 1",
        ),
        (
            "pm.expect({a: 1}).to.not.include({a: 1})",
            "expected { a: 1 } to not have property 'a' of 1",
        ),
        ("pm.expect({a: 1}).to.have.keys('a', 'b')", "expected { a: 1 } to have keys 'a', and 'b'"),
        (
            "pm.expect([1, 2]).to.have.members([1, 3])",
            "expected [ 1, 2 ] to have the same members as [ 1, 3 ]",
        ),
        (
            "pm.expect([1, 2]).to.include.members([3])",
            "expected [ 1, 2 ] to be a superset of [ 3 ]",
        ),
        (
            "pm.expect([{a: 1}]).to.deep.include({a: 2})",
            "expected [ { a: 1 } ] to deep include { a: 2 }",
        ),
        (
            "pm.response.to.have.header('X-Missing')",
            "expected response to have header with key 'X-Missing'",
        ),
        ("pm.response.to.be.clientError", "expected response code to be 4XX but found 200"),
        ("pm.response.to.be.serverError", "expected response code to be 5XX but found 200"),
        ("pm.response.to.be.error", "expected response code to be 4XX or 5XX but found 200"),
        (
            "pm.response.to.have.jsonBody('id', 6)",
            'expected response body json at "id" to contain 6 but got 5',
        ),
        (
            "pm.response.to.have.jsonBody('name')",
            "expected { id: 5 } in response to contain property 'name'",
        ),
        (
            "pm.response.to.not.have.header('Content-Type')",
            "expected response to not have header with key 'Content-Type'",
        ),
        (
            "pm.response.to.have.header('content-type', 'text/html')",
            "expected 'content-type' response header to be 'text/html' but got 'application/json'",
        ),
        ("pm.response.to.not.be.success", "expected response code to not be 2XX"),
        (
            "pm.response.to.be.notFound",
            "expected response to have status reason 'NOT FOUND' but got 'OK'",
        ),
        (
            "pm.response.to.have.body({id: 6})",
            "expected response body json to equal { id: 6 } but got { id: 5 }",
        ),
        (
            "pm.response.to.have.body(/zz/)",
            "expected response body text to match /zz/ but got '{\"id\": 5}'",
        ),
    ],
)
def test_a_failed_assertion_carries_chais_message(assertion: str, message: str) -> None:
    outcome = run_test(f"pm.test('check', function () {{ {assertion}; }});")
    assert messages(outcome) == {"check": message}
    assert outcome.tests[0].error_name == "AssertionError" and not outcome.passed


def test_passing_chains_pass() -> None:
    code = """
    pm.test("all good", function () {
        pm.response.to.have.status(200);
        pm.response.to.be.ok;
        pm.response.to.be.success;
        pm.response.to.be.json;
        pm.response.to.have.header("content-type");
        pm.response.to.have.header("Content-Type", "application/json");
        pm.response.to.have.jsonBody();
        pm.response.to.have.jsonBody("id");
        pm.response.to.have.body('{"id": 5}');
        pm.expect(pm.response.headers.get("CONTENT-TYPE")).to.equal("application/json");
        pm.expect(pm.response.headers.has("content-type")).to.be.true;
        pm.expect(pm.response.json().id).to.be.a("number").and.to.be.within(1, 9);
        pm.expect(pm.response.text()).to.include("id");
        pm.expect(pm.response.responseTime).to.be.below(1000);
        pm.expect(pm.response.responseSize).to.equal(9);
        pm.expect({a: {b: 1}}).to.have.property("a").that.has.property("b", 1);
        pm.expect({a: 1, b: 2}).to.include.keys("a");
        pm.expect({a: 1}).to.not.have.property("z");
        pm.expect([3, 1]).to.have.members([1, 3]);
        pm.expect("").to.be.empty;
        pm.expect(undefined).to.not.exist;
        pm.expect(2).to.be.oneOf([1, 2]);
        pm.expect({x: [1]}).to.deep.equal({x: [1]});
        pm.expect({a: 1, b: 2}).to.include({a: 1});
        pm.expect({a: 1}).to.not.include({a: 2});
        pm.expect({a: {b: 1}}).to.deep.include({a: {b: 1}});
    });
    """
    outcome = run_test(code)
    assert messages(outcome) == {"all good": ""}
    assert outcome.passed


def test_skip_and_arrow_and_thrown_errors() -> None:
    code = """
    pm.test.skip("later", function () { throw new Error("never runs"); });
    pm.test("arrow", () => pm.expect(1).to.equal(1));
    pm.test("boom", () => { undefinedThing.call(); });
    """
    outcome = run_test(code)
    later, arrow, boom = outcome.tests
    assert later.skipped and not later.passed
    assert arrow.passed
    assert boom.error_name == "ReferenceError" and "undefinedThing" in boom.message
    assert not outcome.passed


def test_json_schema_is_checked_by_ajv_as_in_postman() -> None:
    code = """
    const schema = {type: "object", required: ["id", "name"], properties: {id: {type: "string"}}};
    pm.test("schema", () => pm.response.to.have.jsonSchema(schema));
    pm.test("good schema", () => pm.expect({id: "x"}).to.have.jsonSchema({required: ["id"]}));
    pm.test("later failure keeps the schema message", () => {
        pm.expect(pm.response.json()).to.have.jsonSchema(schema);
    });
    """
    outcome = run_test(code, json_response({"id": 5}))
    found = messages(outcome)
    assert found["good schema"] == ""
    # Newman's wording (Ajv's): one line after the colon, errors joined by ", ".
    assert found["schema"] == (
        "expected data to satisfy schema but found following errors: \n"
        "data should have required property 'name', data.id should be string"
    )
    assert found["later failure keeps the schema message"] == found["schema"]


def test_response_status_class_and_client_error() -> None:
    outcome = run_test(
        "pm.test('4xx', () => pm.response.to.be.clientError);"
        "pm.test('not ok', () => pm.response.to.be.ok);",
        json_response({"detail": "nope"}, 404, "Not Found"),
    )
    assert messages(outcome) == {
        "4xx": "",
        "not ok": "expected response to have status reason 'OK' but got 'NOT FOUND'",
    }


def test_json_property_checks_the_body_parses() -> None:
    from harness.scripting import ScriptResponse

    html = ScriptResponse(200, "OK", (("Content-Type", "text/html"),), b"<html>", 1.0)
    outcome = run_test("pm.test('json', () => pm.response.to.be.json);", html)
    assert messages(outcome)["json"].startswith(
        "expected response body to be a valid json but got error "
    )


def test_json_schema_messages_for_nested_and_array_data() -> None:
    code = """
    const schema = {type: "array", items: {type: "object", required: ["name"],
        properties: {age: {type: "integer", minimum: 0}, tags: {type: "array", maxItems: 1}}}};
    pm.test("s", () => pm.expect([{name: "a", age: -1}, {age: 1.5, tags: [1, 2]}]).to.have.jsonSchema(schema));
    pm.test("not", () => pm.expect({}).to.not.have.jsonSchema({type: "object"}));
    """
    found = messages(run_test(code))
    assert found["s"].endswith(
        "data[0].age should be >= 0, data[1] should have required property 'name', "
        "data[1].age should be integer, data[1].tags should NOT have more than 1 items"
    )
    assert found["not"] == "expected data to not satisfy schema"


def test_pm_request_has_chai_postman_assertions() -> None:
    # chai-postman asserts on requests as on responses (Newman's sandbox-libraries fixture).
    code = """
    pm.test("request", function () {
        pm.expect(pm.request.to).to.be.an('object');
        pm.request.to.be.ok;
        pm.request.to.not.have.header('Foo-Bar');
        pm.request.to.be.postmanRequest;
        pm.request.to.be.postmanRequestOrResponse;
        pm.request.to.not.be.postmanResponse;
        pm.response.to.not.be.postmanRequest;
    });
    pm.test("wrong", function () { pm.response.to.be.postmanRequest; });
    """
    outcome = run_test(code)
    assert messages(outcome)["request"] == ""
    assert "to be a postman request" in messages(outcome)["wrong"]


def test_a_failed_json_schema_assertion_can_be_caught() -> None:
    # chai-postman's jsonSchema throws at once (Newman's sandbox-libraries fixture expects
    # `pm.expect(() => ...jsonSchema(schema)).to.throw(message)`).
    code = """
    var schema = {properties: {alpha: {type: "boolean"}}};
    pm.test("throws", function () {
        pm.expect(function () { pm.expect({alpha: 123}).to.be.jsonSchema(schema); })
            .to.throw('expected data to satisfy schema but found following errors: \\ndata.alpha should be boolean');
        pm.expect(function () { pm.expect({alpha: true}).to.not.be.jsonSchema(schema); })
            .to.throw('expected data to not satisfy schema');
    });
    """
    assert messages(run_test(code)) == {"throws": ""}


def test_json_schema_reused_across_scripts_keeps_each_verdict() -> None:
    # One Ajv per run keeps compiled schemas; each assertion still gets its own errors.
    from harness.scripting import ScriptRunner

    runner = ScriptRunner()
    schema = "{type: 'object', required: ['id']}"
    first = run_test(
        f"pm.test('ok', () => pm.expect({{id: 1}}).to.be.jsonSchema({schema}));", runner=runner
    )
    second = run_test(
        f"pm.test('bad', () => pm.expect({{}}).to.be.jsonSchema({schema}));", runner=runner
    )
    third = run_test(
        f"pm.test('ok', () => pm.expect({{id: 2}}).to.be.jsonSchema({schema}));", runner=runner
    )
    assert messages(first) == messages(third) == {"ok": ""}
    assert messages(second)["bad"].endswith("data should have required property 'id'")
