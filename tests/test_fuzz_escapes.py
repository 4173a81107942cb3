"""Hostile content that tries to get out: unsafe YAML tags, template escapes, file paths.

A scenario or cassette can hold ``!!python/object`` payloads; a template can walk to ``__class__``;
a collection can point a file upload at ``/etc/passwd`` or ``../``. Each must fail cleanly with the
project's own error, run nothing and read nothing outside the working directory.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import paths
from harness.build import build_request
from harness.cassettes.persister import load_document
from harness.collection import load_collection
from harness.errors import HarnessError
from harness.scenarios.loader import load_scenario_file
from harness.scenarios.templates import TemplateProblem, render_text
from harness.variables import Resolver, Scopes

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
UNSAFE_YAML = [
    "!!python/object/apply:os.system ['touch {marker}']\n",
    "a: !!python/object/apply:subprocess.call [['touch', '{marker}']]\n",
    "a: !!python/object/new:os.system ['touch {marker}']\n",
    "a: !!python/name:os.system\n",
    "- !!python/module:os\n",
]


@pytest.mark.parametrize("payload", UNSAFE_YAML)
def test_scenario_yaml_python_tags_are_rejected(tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "pwned"
    source = tmp_path / "s.yaml"
    source.write_text(payload.format(marker=marker))
    with pytest.raises(HarnessError):
        load_scenario_file(source, load_collection(paths.DEFAULT_COLLECTION))
    assert not marker.exists()


@pytest.mark.parametrize("payload", UNSAFE_YAML)
def test_cassette_yaml_python_tags_are_rejected(tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "pwned"
    source = tmp_path / "c.yaml"
    source.write_text(payload.format(marker=marker))
    with pytest.raises(HarnessError):
        load_document(source)
    assert not marker.exists()


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__ }}",
    "{{ fake.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ date.__globals__['os'].system('id') }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ self._TemplateReference__context }}",
    "{{ env.__class__.__init__.__globals__ }}",
    "{{ range(10**9) | list }}",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_template_escapes_fail_cleanly(template: str) -> None:
    from harness.scenarios.templates import helpers

    try:
        rendered = render_text(template, {**helpers(), "env": {}})
    except TemplateProblem:
        return
    # Rendering without an error is allowed only if nothing from Python's internals came out.
    text = str(rendered)
    assert "<class" not in text and "module" not in text and "uid=" not in text


@settings(max_examples=1500, derandomize=True, deadline=None, database=None)
@given(st.text(alphabet="{}%#._()[]'\"|abcdeflmnorstuwx_ 019", max_size=40))
def test_any_template_text_renders_or_is_a_template_problem(text: str) -> None:
    with contextlib.suppress(TemplateProblem):
        render_text(text, {"x": 1, "name": "n"})


def upload_collection(tmp_path: Path, src: str, mode: str) -> Path:
    body = (
        {"mode": "formdata", "formdata": [{"key": "f", "type": "file", "src": src}]}
        if mode == "formdata"
        else {"mode": "file", "file": {"src": src}}
    )
    doc = {
        "info": {"name": "up", "schema": V21},
        "item": [
            {
                "name": "upload",
                "request": {"method": "POST", "url": "http://127.0.0.1:9/x", "body": body},
            }
        ],
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    return path


OUTSIDE = ["/etc/passwd", "../outside.txt", "sub/../../outside.txt", "sub/link-out"]


@pytest.mark.parametrize("mode", ["formdata", "file"])
@pytest.mark.parametrize("src", OUTSIDE)
def test_uploads_cannot_escape_the_working_directory(tmp_path: Path, src: str, mode: str) -> None:
    root = tmp_path / "work"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("secret outside")
    (root / "sub" / "link-out").symlink_to(tmp_path / "outside.txt")
    item = next(load_collection(upload_collection(tmp_path, src, mode)).requests())
    with pytest.raises(HarnessError, match="outside the working directory"):
        build_request(item, Resolver(Scopes()), files_root=root)
    allowed = build_request(item, Resolver(Scopes()), files_root=root, allow_outside_files=True)
    assert allowed.content


@pytest.mark.parametrize("mode", ["formdata", "file"])
def test_uploads_inside_the_working_directory_are_read(tmp_path: Path, mode: str) -> None:
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.4")
    item = next(load_collection(upload_collection(tmp_path, "doc.pdf", mode)).requests())
    built = build_request(item, Resolver(Scopes()), files_root=tmp_path)
    assert b"%PDF-1.4" in (built.content or b"")
