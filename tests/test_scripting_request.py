"""pm.request in pre-request scripts: reading it and changing url, headers, body and auth."""

from __future__ import annotations

from harness.collection import Auth, Body, KeyValue, RequestItem, Url
from harness.scripting import ScriptRequest
from tests.scripting_support import messages, run_prerequest

ITEM = RequestItem(
    name="Create patient",
    folder_path=("Patients",),
    method="POST",
    url=Url(
        raw="{{base}}/api/patients/:id",
        query=(KeyValue("page", "1"), KeyValue("off", "x", disabled=True)),
        path_variables=(KeyValue("id", "9"),),
    ),
    headers=(KeyValue("Accept", "application/json"), KeyValue("X-Old", "1")),
    body=Body(mode="raw", raw='{"a": 1}', language="json"),
    auth=Auth("bearer", {"token": "{{token}}"}),
)


def test_pre_request_script_reads_the_unresolved_request() -> None:
    code = """
    pm.test("read", () => {
        pm.expect(pm.request.method).to.equal("POST");
        pm.expect(pm.request.url.toString()).to.equal("{{base}}/api/patients/:id?page=1");
        pm.expect(pm.request.url.query.get("page")).to.equal("1");
        pm.expect(pm.request.headers.get("accept")).to.equal("application/json");
        pm.expect(JSON.parse(pm.request.body.raw)).to.eql({a: 1});
        pm.expect(pm.request.auth.type).to.equal("bearer");
        pm.expect(pm.info.eventName).to.equal("prerequest");
        pm.expect(pm.info.requestName).to.equal("List patients");
    });
    """
    outcome = run_prerequest(code, ScriptRequest.from_item(ITEM))
    assert messages(outcome) == {"read": ""}
    assert outcome.request == ScriptRequest.from_item(ITEM)


def test_pre_request_changes_come_back_onto_the_item() -> None:
    code = """
    pm.request.headers.add({key: "X-Request-Id", value: "abc"});
    pm.request.headers.upsert({key: "accept", value: "text/plain"});
    pm.request.headers.remove("X-Old");
    pm.request.url.query.upsert("page", "2");
    pm.request.url.query.add({key: "q", value: "smith"});
    pm.request.body.raw = JSON.stringify({a: 2});
    pm.request.auth = {type: "bearer", bearer: [{key: "token", value: "other"}]};
    pm.request.method = "put";
    """
    outcome = run_prerequest(code, ScriptRequest.from_item(ITEM))
    assert not outcome.failures
    changed = outcome.request.apply_to(ITEM)
    assert changed.method == "PUT"
    assert changed.url.raw == "{{base}}/api/patients/:id"
    assert [(q.key, q.value, q.disabled) for q in changed.url.query] == [
        ("page", "2", False),
        ("q", "smith", False),
        ("off", "x", True),
    ]
    assert changed.url.path_variables == ITEM.url.path_variables
    assert [(h.key, h.value) for h in changed.headers] == [
        ("Accept", "text/plain"),
        ("X-Request-Id", "abc"),
    ]
    assert changed.body == Body(mode="raw", raw='{"a":2}', language="json")
    assert changed.auth == Auth("bearer", {"token": "other"})


def test_assigning_a_new_url_string() -> None:
    outcome = run_prerequest("pm.request.url = 'http://127.0.0.1:1/x?y=1';")
    assert outcome.request.url == "http://127.0.0.1:1/x?y=1"


def test_scripts_of_one_event_run_in_order_and_see_each_others_changes() -> None:
    from harness.scripting import ScriptInfo, ScriptRunner, ScriptSource
    from tests.scripting_support import scopes

    outcome = ScriptRunner().run_prerequest(
        [
            ScriptSource(
                "pm.request.headers.add({key: 'X-A', value: '1'});", "prerequest", "collection"
            ),
            ScriptSource(
                "pm.test('t', () => pm.expect(pm.request.headers.get('x-a')).to.equal('1'));",
                "test",
                "collection",
            ),
            ScriptSource(
                "pm.test('sees', () => pm.expect(pm.request.headers.get('x-a')).to.equal('1'));",
                "prerequest",
                "request 'r'",
            ),
        ],
        ScriptRequest("GET", "http://h/"),
        scopes(),
        ScriptInfo("r"),
    )
    assert messages(outcome) == {"sees": ""}  # the test-event script was not run


def test_a_script_changed_request_keeps_its_query_as_written() -> None:
    # Found by the wire tests: rebuilding the query with parse_qsl decoded "a%40b.com" (sent as
    # "a@b.com") and turned "?debug" into "?debug=", unlike Newman.
    from harness.collection import KeyValue, RequestItem, Url
    from harness.scripting.model import ScriptRequest

    item = RequestItem(
        name="R",
        folder_path=(),
        method="GET",
        url=Url(
            raw="http://h/x",
            query=(KeyValue("email", "a%40b.com"), KeyValue("debug", "", has_value=False)),
        ),
        headers=(),
        body=None,
        auth=None,
    )
    rebuilt = ScriptRequest.from_item(item).apply_to(item)
    assert rebuilt.url.query == item.url.query
