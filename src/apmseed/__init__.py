"""apmseed: realistic, deterministic synthetic APM data in PostgreSQL, shaped like Instana's REST API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("apmseed")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+local"

