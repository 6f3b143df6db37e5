#!/usr/bin/env bash
# The benchmarks of BENCHMARKS.md, on this machine: for each backend (SQLite, and a throwaway
# PostgreSQL started here, tuned or with its defaults) and each size, seed a fresh database with
# `growdesk-bench seed`, start the release server and the floor on it, run every HTTP scenario at
# 1, 8, 32 and 128 clients; at the smallest size, the mixed desk load with its sockets and, on
# PostgreSQL, one server process against two; at the largest, the WebSocket figures; finally
# write the tables into BENCHMARKS.md and the plot into docs/benchmarks/latency.svg.
#
# Usage: scripts/bench.sh [TICKETS...]        (default: 10000 1000000)
# Environment: BENCH_SECONDS (measured seconds per scenario and level, default 5),
#              BENCH_BACKENDS (default "sqlite postgres"; `postgres` is tuned, shared_buffers=512MB
#              and synchronous_commit=off, `postgres-defaults` runs with PostgreSQL's own settings),
#              BENCH_SCENARIOS (comma-separated scenario names, default all), BENCH_CONCURRENCY
#              (clients per level, default 1,8,32,128), BENCH_CONNECTIONS (idle sockets, 10000;
#              0 skips the WebSocket figures), BENCH_MIXED (1; 0 skips the mixed load),
#              BENCH_AGENT_SOCKETS (200) and BENCH_VISITORS (2000) for the mixed load, BENCH_SCALE
#              (1; 0 skips the two server processes).
# To measure another build, as when comparing two commits: BENCH_BINARIES, a directory holding
# that build's release binaries (nothing is built then), and BENCH_OUT, where the result files
# go (the report, BENCHMARKS.md and the plot, is then left to `growdesk-bench report`).
set -euo pipefail
# Both are resolved before the script moves to the repository's root.
if [ -n "${BENCH_BINARIES:-}" ]; then BIN=$(realpath "$BENCH_BINARIES") BUILD=no; else BIN=target/release BUILD=yes; fi
if [ -n "${BENCH_OUT:-}" ]; then OUT=$(realpath -m "$BENCH_OUT") REPORT=no; else OUT=target/bench REPORT=yes; fi
cd "$(dirname "$0")/.."

if [ "$#" -gt 0 ]; then SIZES=("$@"); else SIZES=(10000 1000000); fi
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
read -r -a BACKENDS <<<"${BENCH_BACKENDS:-sqlite postgres}"
CONNECTIONS=${BENCH_CONNECTIONS:-10000}
SCENARIOS=${BENCH_SCENARIOS:-}
CONCURRENCY=${BENCH_CONCURRENCY:-1,8,32,128}
MIXED=${BENCH_MIXED:-1}
AGENT_SOCKETS=${BENCH_AGENT_SOCKETS:-200}
VISITORS=${BENCH_VISITORS:-2000}
SCALE=${BENCH_SCALE:-1}
PASSWORD=bench-password-1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/growdesk-bench.XXXXXX")
SERVER_PID=
SECOND_PID=
FLOOR_PID=

# shellcheck source=lib/throwaway-postgres.sh
source scripts/lib/throwaway-postgres.sh

stop_processes() {
  for pid in $SERVER_PID $SECOND_PID $FLOOR_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PID= SECOND_PID= FLOOR_PID=
}

cleanup() {
  stop_processes
  if [ -n "${PG_DIR:-}" ]; then stop_throwaway_postgres; fi
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Ten thousand sockets on each side need more descriptors than the usual 1,024.
ulimit -n "$(ulimit -Hn)"

if [ "$BUILD" = yes ]; then cargo build --release --locked -p growdesk-server -p growdesk-bench; fi
mkdir -p "$OUT"
largest=0
smallest=${SIZES[0]}
for size in "${SIZES[@]}"; do
  if [ "$size" -gt "$largest" ]; then largest=$size; fi
  if [ "$size" -lt "$smallest" ]; then smallest=$size; fi
done

wait_for() {
  local url=$1
  for _ in $(seq 1 200); do
    if curl -fs "$url" >/dev/null 2>&1; then return; fi
    sleep 0.1
  done
  echo "no answer from $url" >&2
  exit 1
}

# A server on the database of $url, on 127.0.0.1:PORT, logging to LOG; its pid in STARTED_PID.
# Every process of a run shares the data directory, so the signing key too.
start_server() {
  local port=$1 log=$2
  GROWDESK_DATABASE_URL="$url" \
  GROWDESK_ADDR=127.0.0.1:$port \
  GROWDESK_DATA_DIR="$WORK/data-$label" \
  GROWDESK_ADMIN_EMAIL=admin@bench.growdesk.test \
  GROWDESK_ADMIN_PASSWORD="$PASSWORD" \
  GROWDESK_LOG_LEVEL=warn \
  GROWDESK_ACCESS_TOKEN_TTL_SECS=86400 \
  GROWDESK_AUTH_ATTEMPTS_PER_IP_PER_MINUTE=100000000 \
  GROWDESK_LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE=100000000 \
  GROWDESK_WIDGET_REQUESTS_PER_IP_PER_MINUTE=100000000 \
  GROWDESK_WIDGET_REQUESTS_PER_WIDGET_PER_MINUTE=100000000 \
  GROWDESK_WS_MAX_CONNECTIONS_PER_USER=100000 \
  GROWDESK_WS_MAX_CONNECTIONS_PER_IP=100000 \
    "$BIN"/growdesk-server >"$log" 2>&1 &
  STARTED_PID=$!
}

# Fails the run, with the logs, when a process it started has exited: an answer from a process
# that was already on the port would measure the wrong server.
check_running() {
  for pid in "$@"; do
    kill -0 "$pid" 2>/dev/null || { cat "$WORK"/*-"$label".log >&2; exit 1; }
  done
}

label_of() {
  local size=$1
  if [ "$size" -ge 1000000 ] && [ $((size % 1000000)) = 0 ]; then echo "$((size / 1000000))m"
  elif [ "$size" -ge 1000 ] && [ $((size % 1000)) = 0 ]; then echo "$((size / 1000))k"
  else echo "$size"; fi
}

for backend in "${BACKENDS[@]}"; do
  case "$backend" in
    sqlite) ;;
    # synchronous_commit off matches the server's SQLite (WAL, synchronous=NORMAL): a commit
    # is durable at the next WAL flush, not at once. fsync stays on.
    postgres) start_throwaway_postgres -c max_connections=200 -c shared_buffers=512MB -c synchronous_commit=off ;;
    # As users run it: each commit waits for its WAL flush, 128 MB of shared buffers.
    postgres-defaults) start_throwaway_postgres ;;
    *) echo "unknown backend $backend (sqlite, postgres or postgres-defaults)" >&2; exit 1 ;;
  esac
  for size in "${SIZES[@]}"; do
    label="$backend-$(label_of "$size")"
    # Results of other runs stay, so one backend or size can be measured again on its own.
    rm -f "$OUT/load-$label.json" "$OUT/sockets-$label.json" "$OUT/plans-$label.md" \
      "$OUT/mixed-$label.json" "$OUT/scale-$label.json"
    if [ "$backend" = sqlite ]; then
      url="sqlite://$WORK/$label.db"
    else
      psql -q -h 127.0.0.1 -p "$PG_PORT" -U growdesk -d postgres -c "CREATE DATABASE \"bench_$size\""
      url="postgres://growdesk@127.0.0.1:$PG_PORT/bench_$size"
    fi
    echo "== $label: seeding"
    "$BIN"/growdesk-bench seed --database-url "$url" --tickets "$size" --password "$PASSWORD"

    start_server 18080 "$WORK/server-$label.log"
    SERVER_PID=$STARTED_PID
    "$BIN"/growdesk-bench floor --database-url "$url" --addr 127.0.0.1:18090 >"$WORK/floor-$label.log" 2>&1 &
    FLOOR_PID=$!
    wait_for http://127.0.0.1:18080/api/ready
    wait_for http://127.0.0.1:18090/floor/constant
    check_running "$SERVER_PID" "$FLOOR_PID"

    echo "== $label: HTTP scenarios"
    "$BIN"/growdesk-bench load --label "$label" --backend "$backend" --database-url "$url" \
      --target http://127.0.0.1:18080 --floor http://127.0.0.1:18090 --server-pid "$SERVER_PID" \
      --admin-email admin@bench.growdesk.test --password "$PASSWORD" \
      --seconds "$SECONDS_PER_RUN" --concurrency "$CONCURRENCY" ${SCENARIOS:+--only "$SCENARIOS"} \
      --out "$OUT/load-$label.json"
    if [ "$size" = "$smallest" ] && [ "$MIXED" != 0 ]; then
      echo "== $label: mixed load"
      "$BIN"/growdesk-bench mixed --label "$label" --backend "$backend" --database-url "$url" \
        --target http://127.0.0.1:18080 --server-pid "$SERVER_PID" \
        --admin-email admin@bench.growdesk.test --password "$PASSWORD" \
        --agent-sockets "$AGENT_SOCKETS" --visitors "$VISITORS" --seconds "$SECONDS_PER_RUN" \
        --out "$OUT/mixed-$label.json"
    fi
    if [ "$size" = "$smallest" ] && [ "$backend" != sqlite ] && [ "$SCALE" != 0 ]; then
      echo "== $label: one server process against two"
      start_server 18081 "$WORK/second-$label.log"
      SECOND_PID=$STARTED_PID
      wait_for http://127.0.0.1:18081/api/ready
      check_running "$SECOND_PID"
      "$BIN"/growdesk-bench scale --label "$label" --backend "$backend" \
        --targets http://127.0.0.1:18080,http://127.0.0.1:18081 --password "$PASSWORD" \
        --seconds "$SECONDS_PER_RUN" --out "$OUT/scale-$label.json"
    fi
    if [ "$size" = "$largest" ]; then
      "$BIN"/growdesk-bench plans --database-url "$url" --out "$OUT/plans-$label.md"
    fi
    if [ "$size" = "$largest" ] && [ "$CONNECTIONS" -gt 0 ]; then
      echo "== $label: WebSockets"
      "$BIN"/growdesk-bench sockets --label "$label" --target http://127.0.0.1:18080 \
        --server-pid "$SERVER_PID" --password "$PASSWORD" --connections "$CONNECTIONS" \
        --out "$OUT/sockets-$label.json"
    fi
    stop_processes
  done
  if [ "$backend" != sqlite ]; then
    stop_throwaway_postgres
    PG_DIR=
  fi
done

if [ "$REPORT" = yes ]; then
  "$BIN"/growdesk-bench report --results "$OUT"
else
  echo "results in $OUT"
fi
