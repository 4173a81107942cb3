"""A readable, diff-friendly YAML serializer for VCR.py cassettes.

Same document shape as VCR.py's own (``version``, ``interactions`` of ``request``/``response``),
so VCR loads it unchanged, but keys are sorted, JSON bodies are pretty-printed (indent 2, sorted
keys) and multi-line strings are written as literal blocks: one JSON member per line, so a diff
of a re-recorded cassette shows the fields that changed and ``cassettes scan`` can name the line.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from harness.json_input import loads_json
from harness.safe_yaml import safe_load

SERIALIZER_NAME = "harness-yaml"
FORMAT_VERSION = 1


class CassetteFormatError(ValueError):
    """The document parsed but is not a cassette (the persister adds the file name)."""


# libyaml's emitter when PyYAML has it: 10x faster and the same text. (Unlike loading, dumping
# is safe in C: a cassette is shallow, its bodies are strings.)
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]  # a base chosen at import
    pass


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def pretty_json(text: str) -> str | None:
    try:
        return json.dumps(loads_json(text), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return None


def _content_type(headers: Any) -> str:
    if not isinstance(headers, dict):
        return ""
    for name, values in headers.items():
        if str(name).lower() == "content-type":
            value = values[0] if isinstance(values, list) and values else values
            return str(value)
    return ""


def _pretty_body(body: Any, headers: Any) -> Any:
    if isinstance(body, str) and body and "json" in _content_type(headers).lower():
        return pretty_json(body) or body
    return body


def serialize(cassette_dict: dict[str, Any]) -> str:
    interactions = []
    for interaction in cassette_dict.get("interactions", []):
        request = dict(interaction["request"])
        response = dict(interaction["response"])
        request["body"] = _pretty_body(request.get("body"), request.get("headers"))
        body = response.get("body")
        if isinstance(body, dict):
            response["body"] = {
                **body,
                "string": _pretty_body(body.get("string"), response.get("headers")),
            }
        interactions.append({"request": request, "response": response})
    document = {**cassette_dict, "interactions": interactions}
    text: str = yaml.dump(
        document, Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=1_000_000, indent=2
    )
    return text


def deserialize(cassette_string: str) -> dict[str, Any]:
    """Parse and check the shape; raises yaml.YAMLError or :class:`CassetteFormatError`."""
    # Not libyaml's CSafeLoader, although it is 80x faster: deeply nested input overflows its
    # C stack and kills the process. The Python loader with a nesting limit raises an error
    # (a MarkedYAMLError) that the persister reports with the file and line.
    data = safe_load(cassette_string)
    validate(data)
    return dict(data)


def validate(data: Any) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteFormatError("it is not a mapping with an 'interactions' list")
    if data.get("version") != FORMAT_VERSION:
        raise CassetteFormatError(
            f"its version is {data.get('version')!r}, expected {FORMAT_VERSION}"
        )
    for number, interaction in enumerate(data["interactions"], start=1):
        where = f"interaction {number}"
        if not isinstance(interaction, dict):
            raise CassetteFormatError(f"{where} is not a mapping")
        request, response = interaction.get("request"), interaction.get("response")
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise CassetteFormatError(f"{where} needs both a 'request' and a 'response' mapping")
        for key in ("method", "uri"):
            if not isinstance(request.get(key), str):
                raise CassetteFormatError(f"{where}: request.{key} is missing or not a string")
        # VCR keeps the first value of each request header, so each needs one.
        if not _header_map(request.get("headers", {}), allow_empty=False):
            raise CassetteFormatError(
                f"{where}: request.headers must map names to non-empty lists of strings"
            )
        status = response.get("status")
        if not isinstance(status, dict) or not isinstance(status.get("code"), int):
            raise CassetteFormatError(f"{where}: response.status.code is missing or not a number")
        if not _header_map(response.get("headers", {}), allow_empty=True):
            raise CassetteFormatError(
                f"{where}: response.headers must map names to lists of strings"
            )
        body = response.get("body")
        if not isinstance(body, dict) or not isinstance(
            body.get("string"), (str, bytes, type(None))
        ):
            raise CassetteFormatError(f"{where}: response.body.string is missing")


def _header_map(headers: Any, *, allow_empty: bool) -> bool:
    """Whether ``headers`` maps names to lists of strings, the shape VCR writes and reads."""
    return isinstance(headers, dict) and all(
        isinstance(name, str)
        and isinstance(values, list)
        and (allow_empty or values)
        and all(isinstance(value, str) for value in values)
        for name, values in headers.items()
    )


class ReadableYamlSerializer:
    """The serializer object VCR.py expects (``serialize``/``deserialize``)."""

    serialize = staticmethod(serialize)
    deserialize = staticmethod(deserialize)


readable_yaml = ReadableYamlSerializer()
