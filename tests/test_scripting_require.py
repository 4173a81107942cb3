"""require() of a library from the user's own node_modules directory (--script-libs)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.scripting import ScriptRunner
from tests.scripting_support import messages, run_test


def _node_modules(root: Path) -> Path:
    modules = root / "node_modules"
    (modules / "tiny-lodash" / "lib").mkdir(parents=True)
    (modules / "tiny-lodash" / "package.json").write_text(json.dumps({"main": "lib/main.js"}))
    (modules / "tiny-lodash" / "lib" / "main.js").write_text(
        "var helpers = require('./helpers');\n"
        "module.exports = { chunk: helpers.chunk, version: require('../package.json').main };\n"
    )
    (modules / "tiny-lodash" / "lib" / "helpers.js").write_text(
        "exports.chunk = function (list, size) {\n"
        "  var out = [];\n"
        "  for (var i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));\n"
        "  return out;\n"
        "};\n"
    )
    (modules / "umd-lib.js").write_text(
        "(function (root, factory) {\n"
        "  if (typeof module === 'object' && module.exports) module.exports = factory();\n"
        "  else root.umdLib = factory();\n"
        "}(this, function () { return { twice: function (x) { return 2 * x; } }; }));\n"
    )
    return modules


def test_require_a_library_from_node_modules(tmp_path: Path) -> None:
    runner = ScriptRunner(script_libs=_node_modules(tmp_path))
    code = """
    const _ = require('tiny-lodash');
    const umd = require("umd-lib");
    pm.test("libs", () => {
        pm.expect(_.chunk([1, 2, 3], 2)).to.eql([[1, 2], [3]]);
        pm.expect(_.version).to.equal("lib/main.js");
        pm.expect(umd.twice(4)).to.equal(8);
        pm.expect(require('tiny-lodash')).to.equal(_);
    });
    """
    assert messages(run_test(code, runner=runner)) == {"libs": ""}


def test_a_missing_library_is_named_in_the_failure(tmp_path: Path) -> None:
    runner = ScriptRunner(script_libs=_node_modules(tmp_path))
    (failure,) = run_test("\nconst pad = require('left-pad');", runner=runner).failures
    assert failure.line == 2
    assert failure.message.startswith("require('left-pad'): the library 'left-pad' is not in ")
    assert "npm install left-pad" in failure.message


def test_without_a_library_directory_the_error_says_how_to_give_one() -> None:
    (failure,) = run_test("require('left-pad');").failures
    assert (
        "pass --script-libs with the node_modules directory that has 'left-pad'" in failure.message
    )


def test_a_library_cannot_reach_outside_the_directory(tmp_path: Path) -> None:
    (tmp_path / "secret.js").write_text("module.exports = 'secret';")
    runner = ScriptRunner(script_libs=_node_modules(tmp_path))
    (failure,) = run_test("require('../secret.js');", runner=runner).failures
    assert "outside the script library directory" in failure.message
