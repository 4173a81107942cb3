"""Loading and saving cassettes: clear errors for broken files, atomic writes, a last secret guard."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.serialize import deserialize, serialize

from harness.atomicfile import atomic_write_text
from harness.cassettes.errors import CassetteError
from harness.redaction import SecretRegistry


def read_cassette_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CassetteError(
            f"Cassette {path} is not UTF-8 text.",
            hint="It may be corrupt: restore it from version control or re-record it.",
        ) from None


class GuardedPersister:
    """A VCR.py persister (``load_cassette``/``save_cassette``) that fails loudly and safely.

    VCR's own persister treats an undecodable cassette as empty (and may then overwrite it) and
    writes in place; this one raises :class:`CassetteError` naming the file, writes atomically,
    and refuses to write text that contains a registered secret.
    """

    def __init__(self, secrets: SecretRegistry | None = None) -> None:
        self.secrets = secrets

    def load_cassette(self, cassette_path: str | os.PathLike[str], serializer: Any) -> Any:
        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        text = read_cassette_text(path)
        if not text.strip():
            raise CassetteNotFoundError()  # an empty file is a cassette still to be recorded
        try:
            return deserialize(text, serializer)
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark
            line = f" at line {mark.line + 1}" if mark is not None else ""
            problem = err.problem or "invalid YAML"
            raise CassetteError(
                f"Cassette {path} is not valid YAML{line}: {problem}.",
                hint="It may have been edited by hand or truncated: restore it or re-record it.",
            ) from None
        except (yaml.YAMLError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise CassetteError(
                f"Cassette {path} does not have the structure of a cassette: {err}.",
                hint="Restore it from version control or re-record it (--record-mode=rewrite).",
            ) from None

    def save_cassette(
        self, cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        path = Path(cassette_path)
        text = serialize(cassette_dict, serializer)
        if self.secrets is not None and self.secrets.find_in(text):
            raise CassetteError(
                f"Refusing to write cassette {path}: it would contain a secret value "
                "(a registered token or client secret survived scrubbing).",
                hint="Nothing was written. This is a scrubbing bug; report which requests ran.",
            )
        atomic_write_text(path, text)


def load_document(path: Path) -> dict[str, Any]:
    """The checked cassette document (for ``show``), with errors that name the file."""
    from harness.cassettes.serializer import deserialize as parse_cassette

    if not path.is_file():
        raise CassetteError(f"Cassette {path} does not exist.")
    text = read_cassette_text(path)
    try:
        return parse_cassette(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise CassetteError(f"Cassette {path} is not valid YAML{line}: {err.problem}.") from None
    except (yaml.YAMLError, ValueError) as err:
        raise CassetteError(
            f"Cassette {path} does not have the structure of a cassette: {err}."
        ) from None
