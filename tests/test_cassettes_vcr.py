"""The same scrubbing through plain VCR.py (what the pytest plugin uses via pytest-recording)."""

from __future__ import annotations

from pathlib import Path

import httpx
import vcr

from harness.cassettes import Scrubber, configure_vcr, vcr_config_for
from tests.test_cassettes_support import PHI_VALUES, SECRETS, leaked_values, running_server
from tests.test_cassettes_transport import _registry, run_session


def _vcr(scrubber: Scrubber, mode: str) -> vcr.VCR:
    instance = vcr.VCR(record_mode=mode)
    configure_vcr(instance, scrubber)
    return instance


def test_vcr_config_scrubs_and_replays(tmp_path: Path) -> None:
    cassette = str(tmp_path / "vcr.yaml")
    scrubber = Scrubber(_registry())
    with running_server() as base_url:
        recorder = _vcr(scrubber, "once")
        with recorder.use_cassette(cassette, **vcr_config_for(scrubber)):
            run_session(base_url, httpx.HTTPTransport())
    assert leaked_values(tmp_path, SECRETS + PHI_VALUES) == []
    assert '  "access_token": "<access_token:1>",' in Path(cassette).read_text()

    replay_scrubber = Scrubber()
    player = _vcr(replay_scrubber, "none")
    with player.use_cassette(cassette, **vcr_config_for(replay_scrubber)):
        first = run_session("http://127.0.0.1:1", httpx.HTTPTransport())
    with player.use_cassette(cassette, **vcr_config_for(replay_scrubber)):
        second = run_session("http://127.0.0.1:2", httpx.HTTPTransport())
    assert first == second
    assert first[2][1]["id"] == 4242
