"""The libraries Postman's sandbox provides without an install (postman-sandbox's
lib/environment.js bundles lodash, crypto-js, moment...; its legacy interface also exposes them
as the globals ``_`` and ``CryptoJS``): shipped with the harness, loaded when a script names one."""

from __future__ import annotations

import json
from pathlib import Path

from harness.scripting import ScriptRunner
from harness.scripting.engine import ScriptContext
from tests.scripting_support import messages, run_test


def test_require_the_bundled_libraries_without_script_libs() -> None:
    code = """
    const _ = require('lodash'), CryptoJS = require('crypto-js'), moment = require('moment');
    pm.test("libs", () => {
        pm.expect(_.chunk([1, 2, 3], 2)).to.eql([[1, 2], [3]]);
        pm.expect(CryptoJS.MD5("abc").toString()).to.equal("900150983cd24fb0d6963f7d28e17f72");
        pm.expect(moment.utc("2026-11-29").format("DD/MM/YYYY")).to.equal("29/11/2026");
        pm.expect(require('atob')("YWJj")).to.equal("abc");
    });
    """
    assert messages(run_test(code)) == {"libs": ""}


def test_the_legacy_globals_underscore_and_cryptojs() -> None:
    # Newman's crypto-md5 and super-sandbox-test fixtures use them without a require.
    code = """
    tests["md5"] = CryptoJS.MD5("a").toString() === "0cc175b9c0f1b6a831c399e269772661";
    tests["lodash"] = _.parseInt("08") === 8 && _.isEmpty([]);
    """
    assert messages(run_test(code)) == {"md5": "", "lodash": ""}


def test_a_script_that_names_no_library_does_not_load_one() -> None:
    context = ScriptContext()
    runner = ScriptRunner(context=context)
    # "\\x5f" is "_" spelled so that the script does not name it
    outcome = run_test("tests['no lodash'] = !('\\x5f' in globalThis);", runner=runner)
    assert messages(outcome) == {"no lodash": ""}
    run_test("tests['x'] = _.isArray([]);", runner=runner)  # loads lodash into the shared context
    outcome = run_test("tests['kept'] = _.isArray([]);", runner=runner)
    assert messages(outcome) == {"kept": ""}


def test_the_users_own_copy_comes_first(tmp_path: Path) -> None:
    (tmp_path / "lodash").mkdir()
    (tmp_path / "lodash" / "package.json").write_text(json.dumps({"main": "main.js"}))
    (tmp_path / "lodash" / "main.js").write_text("module.exports = { mine: true };")
    runner = ScriptRunner(script_libs=tmp_path)
    outcome = run_test("tests['mine'] = require('lodash').mine === true;", runner=runner)
    assert messages(outcome) == {"mine": ""}


def test_require_ajv() -> None:
    # Newman's sandbox-libraries fixture: `new (require('ajv'))({logger: false}).validate(...)`.
    code = """
    var Ajv = require('ajv'), schema = {properties: {alpha: {type: "boolean"}}};
    var ajv = new Ajv({logger: false});
    tests["valid"] = ajv.validate(schema, {alpha: true}) === true;
    tests["invalid"] = ajv.compile(schema)({alpha: 123}) === false;
    """
    assert messages(run_test(code)) == {"valid": "", "invalid": ""}


def test_sugar_prototype_methods_for_legacy_scripts() -> None:
    # Postman's sandbox loads Sugar (postman-sandbox lib/vendor/sugar.js): Newman's echo-v2 and
    # prototype-check fixtures call `responseBody.has(...)`, `[1, 2].average()`...
    code = """
    tests["has"] = responseBody.has("id");
    tests["average"] = [1, 2, 3, 4, 5].average() === 3;
    tests["ordinalize"] = (56).ordinalize() === "56th";
    """
    assert messages(run_test(code)) == {"has": "", "average": "", "ordinalize": ""}


def test_the_legacy_tv4_global() -> None:
    # postman-sandbox's legacy interface exposes tv4 (Newman's super-sandbox-test checks it).
    code = """
    tests["tv4"] = tv4.validate({a: 1}, {properties: {a: {type: "integer"}}});
    tests["tv4 fails"] = !tv4.validate({a: "x"}, {properties: {a: {type: "integer"}}});
    """
    assert messages(run_test(code)) == {"tv4": "", "tv4 fails": ""}
