#!/usr/bin/env bash
# Throw-away OpenTelemetry receivers for the OTLP export tests, built from the Go module proxy:
#
#   Jaeger v2 (v1.76.0, in-memory storage): OTLP/HTTP receiver for traces + the query API
#   an OpenTelemetry Collector (v0.165.0 core, OTLP receiver + file exporter): writes every request it
#   receives (traces, metrics, logs) as OTLP/JSON lines to one file
#
#   scripts/otel-services.sh start DIR   build the binaries if needed, start both on free 127.0.0.1 ports with
#                                        config, pids and logs under DIR, wait until they accept requests, and
#                                        print the environment the tests read:
#                                          APMSEED_TEST_JAEGER_OTLP=http://127.0.0.1:P     (POST /v1/traces)
#                                          APMSEED_TEST_JAEGER_QUERY=http://127.0.0.1:Q    (/api/v3/traces/{id})
#                                          APMSEED_TEST_OTLP_RECEIVER=http://127.0.0.1:R   (POST /v1/traces|metrics|logs)
#                                          APMSEED_TEST_OTLP_RECEIVER_OUT=DIR/otelcol/received.jsonl
#                                        a second start for the same DIR prints the same lines
#   scripts/otel-services.sh stop DIR    stop what was started for DIR
#   scripts/otel-services.sh build       only make sure both binaries exist and run; print their paths
#
# Binaries: $APMSEED_JAEGER_BIN (default $(go env GOPATH)/bin/apmseed-jaeger-v1.76.0) and $APMSEED_OTELCOL_BIN
# (default $(go env GOPATH)/bin/apmseed-otelcol-v0.165.0). Builds take several minutes on a clean machine (they
# share the Go module and build caches with each other and with later builds).
#
# Why the builds look the way they do:
# - `go install github.com/jaegertracing/jaeger/cmd/jaeger@v1.76.0` refuses to run: Jaeger's go.mod has a replace
#   directive. So a scratch module requires it as a tool (`go get -tool`) and `go build` builds it.
# - The collector builder (`go.opentelemetry.io/collector/cmd/builder`) runs `go mod tidy`, which also fetches
#   the test dependencies of the file exporter; one of them (contrib's otlpencodingextension, v0.130.0 onwards)
#   cannot be downloaded from the Go module proxy ("This module version is not available"). So the builder only
#   generates the sources (--skip-get-modules --skip-compilation) and plain `go get` + `go build`, which need no
#   test dependencies, do the rest.
# Everything but the env lines goes to stderr.
set -euo pipefail

JAEGER_VERSION=v1.76.0
JAEGER_PKG=github.com/jaegertracing/jaeger/cmd/jaeger
COLLECTOR_VERSION=v0.165.0  # core modules (receiver, otelcol, builder)
FILEEXPORTER_VERSION=v0.165.1  # contrib; v0.165.0 requires a module version the proxy does not serve

die() { echo "otel-services.sh: $*" >&2; exit 1; }
log() { echo "otel-services.sh: $*" >&2; }

need_go() { command -v go >/dev/null || die "Go is not installed (needed to build $1); or set $2"; }

jaeger_bin() {
    if [[ -n "${APMSEED_JAEGER_BIN:-}" ]]; then echo "$APMSEED_JAEGER_BIN"
    else need_go Jaeger APMSEED_JAEGER_BIN; echo "$(go env GOPATH)/bin/apmseed-jaeger-$JAEGER_VERSION"; fi
}

otelcol_bin() {
    if [[ -n "${APMSEED_OTELCOL_BIN:-}" ]]; then echo "$APMSEED_OTELCOL_BIN"
    else need_go "the OpenTelemetry Collector" APMSEED_OTELCOL_BIN
         echo "$(go env GOPATH)/bin/apmseed-otelcol-$COLLECTOR_VERSION"; fi
}

works() {  # the binary runs: `jaeger version`, `otelcol --version`
    case "$(basename "$1")" in
        *jaeger*) "$1" version >/dev/null 2>&1 ;;
        *) "$1" --version >/dev/null 2>&1 ;;
    esac
}

lock() {  # one build at a time (parallel test workers)
    exec 9>"${TMPDIR:-/tmp}/apmseed-otel-build.lock"
    flock 9
}

build_jaeger() {
    local bin work start
    bin=$(jaeger_bin)
    works "$bin" && return 0
    need_go Jaeger APMSEED_JAEGER_BIN
    lock
    if works "$bin"; then exec 9>&-; return 0; fi
    start=$(date +%s)
    log "building Jaeger $JAEGER_VERSION into $bin (several minutes on a clean machine)"
    mkdir -p "$(dirname "$bin")"
    work=$(mktemp -d)
    if ! (cd "$work" && go mod init apmseed.local/jaeger && go get -tool "$JAEGER_PKG@$JAEGER_VERSION" \
            && go build -o "$bin.tmp.$$" "$JAEGER_PKG") >"$work/build.log" 2>&1; then
        tail -n 20 "$work/build.log" >&2
        rm -rf "$work" "$bin.tmp.$$"
        die "building Jaeger failed"
    fi
    mv -f "$bin.tmp.$$" "$bin"
    rm -rf "$work"
    exec 9>&-
    works "$bin" || die "$bin does not run after the build"
    log "Jaeger built in $(( $(date +%s) - start )) s"
}

build_otelcol() {
    local bin work start
    bin=$(otelcol_bin)
    works "$bin" && return 0
    need_go "the OpenTelemetry Collector" APMSEED_OTELCOL_BIN
    lock
    if works "$bin"; then exec 9>&-; return 0; fi
    start=$(date +%s)
    log "building an OpenTelemetry Collector $COLLECTOR_VERSION (otlpreceiver + fileexporter) into $bin"
    mkdir -p "$(dirname "$bin")"
    work=$(mktemp -d)
    cat >"$work/manifest.yaml" <<EOF
dist:
  name: apmseed-otelcol
  description: OTLP receiver + file exporter for the apmseed tests
  output_path: $work/dist
  version: ${COLLECTOR_VERSION#v}
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver $COLLECTOR_VERSION
exporters:
  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter $FILEEXPORTER_VERSION
EOF
    if ! (cd "$work" && GOBIN="$work/bin" go install "go.opentelemetry.io/collector/cmd/builder@$COLLECTOR_VERSION" \
            && "$work/bin/builder" --config manifest.yaml --skip-get-modules --skip-compilation \
            && cd dist && go mod init apmseed.local/otelcol \
            && go get "go.opentelemetry.io/collector/receiver/otlpreceiver@$COLLECTOR_VERSION" \
                      "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter@$FILEEXPORTER_VERSION" \
            && go get . && go build -o "$bin.tmp.$$" .) >"$work/build.log" 2>&1; then
        tail -n 20 "$work/build.log" >&2
        rm -rf "$work" "$bin.tmp.$$"
        die "building the OpenTelemetry Collector failed"
    fi
    mv -f "$bin.tmp.$$" "$bin"
    rm -rf "$work"
    exec 9>&-
    works "$bin" || die "$bin does not run after the build"
    log "OpenTelemetry Collector built in $(( $(date +%s) - start )) s"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

alive() {  # DIR/NAME.pid names a running process started with DIR/config.yaml
    local pid
    [[ -f "$1/$2.pid" ]] || return 1
    pid=$(cat "$1/$2.pid")
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$1/config.yaml"
}

answers() {  # an HTTP server answers on this URL (any status)
    python3 - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1).read()
except urllib.error.HTTPError:
    pass
EOF
}

wait_ready() {  # NAME PID URL...: every URL answers within 60 s, while the process lives
    local name=$1 pid=$2 url ok
    shift 2
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || return 1
        ok=1
        for url in "$@"; do answers "$url" || { ok=0; break; }; done
        [[ $ok -eq 1 ]] && return 0
        sleep 0.2
    done
    return 1
}

stop_one() {
    local dir=$1 name=$2 pid
    if alive "$dir" "$name"; then
        pid=$(cat "$dir/$name.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
}

start_jaeger() {
    local dir=$1/jaeger bin otlp query grpc pid
    mkdir -p "$dir"
    if alive "$dir" jaeger && [[ -f "$dir/env" ]]; then return 0; fi
    bin=$(jaeger_bin)
    for _ in 1 2 3; do  # a port taken between choosing and binding it: try others
        otlp=$(free_port); query=$(free_port); grpc=$(free_port)
        cat >"$dir/config.yaml" <<EOF
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:$query
    grpc:
      endpoint: 127.0.0.1:$grpc
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$otlp
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
EOF
        "$bin" --config "$dir/config.yaml" </dev/null >>"$dir/jaeger.log" 2>&1 &
        pid=$!
        echo "$pid" >"$dir/jaeger.pid"
        if wait_ready jaeger "$pid" "http://127.0.0.1:$query/api/services" "http://127.0.0.1:$otlp/v1/traces"; then
            printf 'APMSEED_TEST_JAEGER_OTLP=http://127.0.0.1:%s\nAPMSEED_TEST_JAEGER_QUERY=http://127.0.0.1:%s\n' \
                "$otlp" "$query" >"$dir/env"
            return 0
        fi
        stop_one "$dir" jaeger
    done
    tail -n 20 "$dir/jaeger.log" >&2 || true
    die "Jaeger did not start (log: $dir/jaeger.log)"
}

start_otelcol() {
    local dir=$1/otelcol bin port pid
    mkdir -p "$dir"
    if alive "$dir" otelcol && [[ -f "$dir/env" ]]; then return 0; fi
    bin=$(otelcol_bin)
    for _ in 1 2 3; do
        port=$(free_port)
        cat >"$dir/config.yaml" <<EOF
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$port
exporters:
  file:
    path: $dir/received.jsonl
    flush_interval: 100ms
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
    metrics:
      receivers: [otlp]
      exporters: [file]
    logs:
      receivers: [otlp]
      exporters: [file]
  telemetry:
    metrics:
      level: none
EOF
        "$bin" --config "$dir/config.yaml" </dev/null >>"$dir/otelcol.log" 2>&1 &
        pid=$!
        echo "$pid" >"$dir/otelcol.pid"
        if wait_ready otelcol "$pid" "http://127.0.0.1:$port/v1/traces"; then
            printf 'APMSEED_TEST_OTLP_RECEIVER=http://127.0.0.1:%s\nAPMSEED_TEST_OTLP_RECEIVER_OUT=%s\n' \
                "$port" "$dir/received.jsonl" >"$dir/env"
            return 0
        fi
        stop_one "$dir" otelcol
    done
    tail -n 20 "$dir/otelcol.log" >&2 || true
    die "the OpenTelemetry Collector did not start (log: $dir/otelcol.log)"
}

start() {
    local dir=$1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    build_jaeger
    build_otelcol
    start_jaeger "$dir"
    start_otelcol "$dir"
    cat "$dir/jaeger/env" "$dir/otelcol/env"
}

stop() {
    local dir=$1
    [[ -d "$dir" ]] || return 0
    stop_one "$dir/jaeger" jaeger
    stop_one "$dir/otelcol" otelcol
    rm -f "$dir/jaeger/env" "$dir/otelcol/env"
}

case "${1:-}" in
    start) [[ $# -eq 2 ]] || die "usage: $0 start DIR"; start "$2" ;;
    stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; stop "$2" ;;
    build) build_jaeger; build_otelcol; jaeger_bin; otelcol_bin ;;
    *) die "usage: $0 start DIR | stop DIR | build" ;;
esac
