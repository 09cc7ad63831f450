#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs the test dependencies into .venv, starts the services the
# tests need (FerretDB for MongoDB; PostgreSQL is embedded via pgserver), lints, and runs pytest.
# Under CI=true a service that cannot start fails the run; on a user's machine its tests are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
export PATH="$PWD/.venv/bin:$PATH"

services=$(mktemp -d)
cleanup() {
  if [ -x scripts/ferretdb.sh ]; then scripts/ferretdb.sh stop "$services" >/dev/null 2>&1 || true; fi
  if [ -x scripts/otel-services.sh ]; then scripts/otel-services.sh stop "$services" >/dev/null 2>&1 || true; fi
  rm -rf "$services"
}
trap cleanup EXIT

if [ -x scripts/ferretdb.sh ]; then
  if url=$(scripts/ferretdb.sh start "$services"); then
    export APMSEED_TEST_MONGO_URL="$url"
    echo "FerretDB (MongoDB wire protocol) at $url"
  elif [ "${CI:-}" = "true" ]; then
    echo "FerretDB could not be started and CI=true: failing" >&2
    exit 1
  else
    echo "FerretDB could not be started: MongoDB tests will be skipped" >&2
  fi
fi

# Jaeger v2 and an OpenTelemetry Collector for the OTLP tests (built from the Go module proxy on first use)
if [ -x scripts/otel-services.sh ]; then
  if env_lines=$(scripts/otel-services.sh start "$services"); then
    while IFS= read -r line; do
      case "$line" in APMSEED_TEST_*=*) export "${line?}" ;; esac
    done <<<"$env_lines"
    echo "OpenTelemetry receivers: $(echo "$env_lines" | tr '\n' ' ')"
  elif [ "${CI:-}" = "true" ]; then
    echo "Jaeger / OpenTelemetry Collector could not be started and CI=true: failing" >&2
    exit 1
  else
    echo "Jaeger / OpenTelemetry Collector could not be started: OTLP receiver tests will be skipped" >&2
  fi
fi

ruff check src tests benchmarks
# a private base temp dir: concurrent pytest runs must not rotate away our embedded servers' data
python -m pytest -n 2 --basetemp "$services/pytest" "$@"
