"""cvewatch: self-hosted CVE tracking and alerting with an OpenCVE-compatible API."""

__version__ = "0.1.0"
