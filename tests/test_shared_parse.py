"""Every sandbox in a process shares one parse of the DrChrono data (it is the costly part of a start).

The harness's built-in sandbox names the shipped OpenAPI document and contracts explicitly, tests'
sandboxes leave them to the default; both must hit the same cache entry, or each test worker and
each `harness run` parses the document twice.
"""

from __future__ import annotations

from drchrono_sandbox import Sandbox, SandboxConfig
from harness import paths


def test_default_and_explicit_data_paths_share_one_parsed_copy() -> None:
    default = Sandbox(SandboxConfig(seed=1))
    explicit = Sandbox(
        SandboxConfig(
            seed=2, openapi_document=paths.OPENAPI_DOCUMENT, contracts_dir=paths.CONTRACTS_DIR
        )
    )
    assert explicit.ctx.doc is default.ctx.doc
    assert explicit.ctx.shapes is default.ctx.shapes
