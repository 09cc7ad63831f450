#!/usr/bin/env bash
# A throw-away FerretDB (MongoDB wire protocol, SQLite backend) for the MongoDB export tests.
#
#   scripts/ferretdb.sh start DIR   build ferretdb if needed, start it on 127.0.0.1:<free port> with data, pid
#                                   and log under DIR, wait until it accepts connections, print its URL
#                                   (mongodb://127.0.0.1:PORT/) on stdout; a second start prints the same URL
#   scripts/ferretdb.sh stop DIR    stop the server started for DIR
#   scripts/ferretdb.sh build       only make sure the binary exists and runs
#
# The binary is $FERRETDB_BIN, default $(go env GOPATH)/bin/ferretdb, FerretDB v1.24.2. A plain
# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds a binary that panics at start
# ("Invalid build/version/version.txt file content"): the module zip lacks the generated version.txt that
# FerretDB embeds. So the build copies the module source, adds version.txt and builds that copy.
# Everything but the URL goes to stderr. FerretDB reads FERRETDB_* variables from the environment, e.g. for
# a server that requires a login: FERRETDB_TEST_ENABLE_NEW_AUTH=true FERRETDB_SETUP_USERNAME=qa
# FERRETDB_SETUP_PASSWORD=secret FERRETDB_SETUP_DATABASE=apmseed (then log in with ?authSource=apmseed).
set -euo pipefail

FERRETDB_VERSION=v1.24.2
MODULE=github.com/FerretDB/FerretDB

die() { echo "ferretdb.sh: $*" >&2; exit 1; }

binary() {
    if [[ -n "${FERRETDB_BIN:-}" ]]; then
        echo "$FERRETDB_BIN"
    else
        command -v go >/dev/null || die "Go is not installed (needed to build FerretDB); or set FERRETDB_BIN"
        echo "$(go env GOPATH)/bin/ferretdb"
    fi
}

works() { "$1" --version >/dev/null 2>&1; }

build() {
    local bin src work
    bin=$(binary)
    works "$bin" && return 0
    command -v go >/dev/null || die "$bin is missing or broken and Go is not installed to build it"
    mkdir -p "$(dirname "$bin")"
    # one build at a time (parallel test workers)
    exec 9>"${TMPDIR:-/tmp}/ferretdb-build.lock"
    flock 9
    if works "$bin"; then exec 9>&-; return 0; fi
    echo "ferretdb.sh: building FerretDB $FERRETDB_VERSION into $bin (a few minutes on a clean machine)" >&2
    src=$(go mod download -json "$MODULE@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [[ -n "$src" && -d "$src" ]] || die "go mod download $MODULE@$FERRETDB_VERSION failed"
    work=$(mktemp -d)
    cp -r "$src" "$work/ferretdb"
    chmod -R u+w "$work/ferretdb"
    echo "$FERRETDB_VERSION" >"$work/ferretdb/build/version/version.txt"
    (cd "$work/ferretdb" && go build -o "$bin.tmp.$$" ./cmd/ferretdb) >&2 \
        || { rm -rf "$work" "$bin.tmp.$$"; die "building FerretDB failed"; }
    mv -f "$bin.tmp.$$" "$bin"
    rm -rf "$work"
    exec 9>&-
    works "$bin" || die "$bin does not run after the build"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

alive() {  # pid file names a running ferretdb
    local pid
    [[ -f "$1/ferretdb.pid" ]] || return 1
    pid=$(cat "$1/ferretdb.pid")
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q ferretdb
}

start() {
    local dir=$1 bin port pid i
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if alive "$dir"; then
        echo "mongodb://127.0.0.1:$(cat "$dir/ferretdb.port")/"
        return 0
    fi
    build
    bin=$(binary)
    mkdir -p "$dir/data" "$dir/state"
    for _ in 1 2 3; do  # a port taken between choosing and binding it: try another
        port=$(free_port)
        "$bin" --handler=sqlite --sqlite-url="file:$dir/data/" --listen-addr="127.0.0.1:$port" \
            --debug-addr=- --telemetry=disable --state-dir="$dir/state" --log-level=warn \
            </dev/null >>"$dir/ferretdb.log" 2>&1 &
        pid=$!
        echo "$pid" >"$dir/ferretdb.pid"
        echo "$port" >"$dir/ferretdb.port"
        for i in $(seq 1 150); do  # up to 15 s
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                echo "mongodb://127.0.0.1:$port/"
                return 0
            fi
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        rm -f "$dir/ferretdb.pid"
        [[ $i -lt 150 ]] || break
    done
    tail -n 20 "$dir/ferretdb.log" >&2 || true
    die "FerretDB did not start (log: $dir/ferretdb.log)"
}

stop() {
    local dir=$1 pid
    if ! alive "$dir"; then
        rm -f "$dir/ferretdb.pid"
        return 0
    fi
    pid=$(cat "$dir/ferretdb.pid")
    kill "$pid"
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    rm -f "$dir/ferretdb.pid"
}

case "${1:-}" in
    start) [[ $# -eq 2 ]] || die "usage: $0 start DIR"; start "$2" ;;
    stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; stop "$2" ;;
    build) build; binary ;;
    *) die "usage: $0 start DIR | stop DIR | build" ;;
esac
