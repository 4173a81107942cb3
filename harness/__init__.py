"""DrChrono contract-test harness driven by Postman collections."""

__version__ = "0.1.0"
