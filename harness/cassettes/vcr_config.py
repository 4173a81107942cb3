"""What pytest-recording needs to reuse the scrubbing: ``vcr_config`` and VCR registrations.

In the pytest plugin::

    def pytest_recording_configure(config, vcr):
        configure_vcr(vcr, SCRUBBER)

    @pytest.fixture(scope="session")
    def drchrono_vcr_config():  # opt-in: a project's own vcr_config fixture returns it
        return vcr_config_for(SCRUBBER)

The configuration deep-copies (pytest-recording copies it for every test) to the same scrubber.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from harness.cassettes.replay_matching import make_query_matcher
from harness.cassettes.scrub import VOLATILE_REQUEST_HEADERS, Scrubber
from harness.cassettes.serializer import SERIALIZER_NAME, readable_yaml

QUERY_MATCHER_NAME = "harness_query"


class SharedHook:
    """A scrubber callback that copies as itself.

    pytest-recording deep-copies ``vcr_config`` for every test; a bound method would copy its
    :class:`Scrubber` (locks cannot be copied, and a copy would forget the secrets and
    pseudonyms the run has seen). Every copy must call the one scrubber.
    """

    def __init__(self, hook: Callable[..., Any]) -> None:
        self.hook = hook
        # VCR.py reads a hook's signature (does it take the cassette?): show the scrubber's.
        functools.update_wrapper(self, hook)

    def __call__(self, *args: Any) -> Any:
        return self.hook(*args)

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedHook:
        return self

    def __copy__(self) -> SharedHook:
        return self


def configure_vcr(vcr: Any, scrubber: Scrubber) -> None:
    """Register the readable serializer and the host-agnostic, PHI-aware query matcher."""
    vcr.register_serializer(SERIALIZER_NAME, readable_yaml)
    vcr.register_matcher(QUERY_MATCHER_NAME, make_query_matcher(scrubber.fields))


def vcr_config_for(scrubber: Scrubber, *, serializer: bool = True) -> dict[str, Any]:
    """Keyword arguments for ``vcr.use_cassette`` (pytest-recording's ``vcr_config`` fixture).

    ``serializer=True`` needs :func:`configure_vcr` to have run on the VCR instance.
    Secret headers are not in ``filter_headers``: the scrubber replaces them with placeholders
    that agree with the token responses, which dropping them would lose.
    """
    config: dict[str, Any] = {
        "before_record_request": SharedHook(scrubber.scrub_request),
        "before_record_response": SharedHook(scrubber.scrub_response),
        "after_load_interaction": SharedHook(scrubber.mark_loaded),
        "before_save_interaction": SharedHook(scrubber.guard_interaction),
        "match_on": ["method", "path", QUERY_MATCHER_NAME if serializer else "query"],
        "decode_compressed_response": True,
        "filter_headers": sorted(VOLATILE_REQUEST_HEADERS),
    }
    if serializer:
        config["serializer"] = SERIALIZER_NAME
    return config
