"""A recorded session as a readable transcript: method, URL, status, timing, bodies."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from harness.cassettes.persister import load_document
from harness.cassettes.scan import mask_leaks
from harness.cassettes.transport import ELAPSED_KEY
from harness.json_input import loads_json
from harness.phi_fields import SensitiveFields


def _body_lines(body: Any) -> list[str]:
    if body is None or body in ("", b""):
        return []
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return [f"<{len(body)} bytes of binary data>"]
    text = str(body)
    with contextlib.suppress(ValueError):
        text = json.dumps(loads_json(text), indent=2, sort_keys=True, ensure_ascii=False)
    return text.splitlines()


def _header_lines(headers: Any) -> list[str]:
    lines = []
    for name, values in sorted((headers or {}).items()):
        for value in values if isinstance(values, list) else [values]:
            lines.append(f"{name}: {value}")
    return lines


def _timing(response: dict[str, Any]) -> str:
    """``  (under 10 ms)``; cassettes recorded before timings were coarse hold exact ``elapsed_ms``."""
    coarse, exact = response.get(ELAPSED_KEY), response.get("elapsed_ms")
    if isinstance(coarse, str) and coarse:
        return f"  ({coarse})"
    if isinstance(exact, (int, float)) and not isinstance(exact, bool):
        return f"  ({exact} ms)"
    return ""


def transcript(document: dict[str, Any], source: str) -> str:
    interactions = document["interactions"]
    lines = [f"Cassette {source}: {len(interactions)} interaction(s)"]
    for number, interaction in enumerate(interactions, start=1):
        request, response = interaction["request"], interaction["response"]
        status = response["status"]
        timing = _timing(response)
        lines.append("")
        lines.append(f"#{number} {request['method']} {request['uri']}")
        lines.extend(f"  > {line}" for line in _header_lines(request.get("headers")))
        lines.extend(f"  > {line}" for line in _body_lines(request.get("body")))
        lines.append(f"  < {status['code']} {status.get('message') or ''}".rstrip() + timing)
        lines.extend(f"  < {line}" for line in _header_lines(response.get("headers")))
        lines.extend(
            f"  < {line}" for line in _body_lines((response.get("body") or {}).get("string"))
        )
    return "\n".join(lines)


def show(path: Path, fields: SensitiveFields) -> str:
    """The transcript, with anything the scanner would flag masked (cassettes can be foreign)."""
    return mask_leaks(transcript(load_document(path), str(path)), fields)
