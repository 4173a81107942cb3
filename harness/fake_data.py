"""The harness's one Faker: Postman's ``$random*`` variables and scenario templates' ``fake.*()``.

Created on first use (importing Faker costs start-up time most runs never need) and shared
behind a lock, because a Faker instance is not thread safe and runs use worker threads. The
sandbox (``drchrono_sandbox``) seeds its own Faker: it is a separate product that imports nothing
from the harness, and its data must be repeatable per seed, which this one is not.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_faker: Any = None  # faker.Faker; untyped library


class NotAProvider(LookupError):
    """``name`` is not a Faker provider method."""


def fake(name: str, *args: object, **kwargs: object) -> object:
    """The value of Faker provider ``name`` (``fake("first_name")``), or :class:`NotAProvider`."""
    global _faker
    with _lock:
        if _faker is None:
            from faker import Faker

            _faker = Faker("en_US")
        method = None if name.startswith("_") else getattr(_faker, name, None)
        if method is None or not callable(method):
            raise NotAProvider(name)
        return method(*args, **kwargs)
