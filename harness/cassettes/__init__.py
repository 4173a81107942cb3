"""Cassettes that leak nothing: VCR.py-backed record/replay with secret and PHI scrubbing."""

from harness.cassettes.errors import CassetteError, CassetteMissError
from harness.cassettes.scrub import Scrubber
from harness.cassettes.transport import CassetteTransport, RecordMode
from harness.cassettes.vcr_config import configure_vcr, vcr_config_for
from harness.phi_fields import SensitiveFields, load_phi_fields

__all__ = [
    "CassetteError",
    "CassetteMissError",
    "CassetteTransport",
    "RecordMode",
    "Scrubber",
    "SensitiveFields",
    "configure_vcr",
    "load_phi_fields",
    "vcr_config_for",
]
