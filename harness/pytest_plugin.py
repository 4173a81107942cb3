"""pytest plugin (filled in by the scenarios work)."""
