"""Scripts that the crash-safety tests run in subprocesses and kill at chosen points."""
