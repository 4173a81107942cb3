"""Everything a request handler of the sandbox reaches: config, store, document, faults, limits."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from drchrono_sandbox.config import SandboxConfig
from drchrono_sandbox.faults import FaultInjector
from drchrono_sandbox.openapi_ops import OpenAPIDocument
from drchrono_sandbox.shapes import ContractShapes
from drchrono_sandbox.state import Store
from drchrono_sandbox.throttle import DrChronoThrottle


@dataclass
class RequestCounter:
    """Requests received per path (faulted ones included), for tests that count retries."""

    _counts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str) -> None:
        with self._lock:
            self._counts[path] += 1

    def count(self, path_prefix: str = "") -> int:
        with self._lock:
            return sum(n for p, n in self._counts.items() if p.startswith(path_prefix))

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


@dataclass
class SandboxContext:
    config: SandboxConfig
    store: Store
    doc: OpenAPIDocument  # routes, scopes, request bodies
    shapes: ContractShapes  # what records and answers look like
    client_id: str
    faults: FaultInjector = field(default_factory=FaultInjector)
    counter: RequestCounter = field(default_factory=RequestCounter)
    limiter: DrChronoThrottle = field(default_factory=DrChronoThrottle)
