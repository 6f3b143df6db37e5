#!/usr/bin/env bash
# The console's speed (BENCHMARKS.md, "Console"): for each backend, a database of BENCH_TICKETS
# tickets seeded by `growdesk-bench seed`, the release server on it, and headless Chromium
# driving the console (crates/server/tests/e2e/bench-console.mjs): a cold and a warm load of the
# queue, view switches, opening a ticket of 200 messages and 1,000 live events a minute, every
# figure read in the browser from its Performance API. Prints a Markdown table per backend and
# keeps the raw figures in target/bench-console/.
#
# Usage: scripts/bench-console.sh [sqlite|postgres]...        (default: sqlite)
# Environment: BENCH_TICKETS (1000000), BENCH_RUNS (20 of each measure), BENCH_EVENTS_PER_MINUTE
#   (1000), BENCH_EVENT_SECONDS (60), BENCH_BINARIES (a directory of release binaries to use
#   instead of building them).
# The SQLite database is kept as target/bench-console/sqlite-<tickets>.db and reused by later runs
# (delete it for a fresh seed; each run adds its live tickets to it); PostgreSQL is a throwaway
# cluster seeded afresh.
set -euo pipefail
if [ -n "${BENCH_BINARIES:-}" ]; then BIN=$(realpath "$BENCH_BINARIES") BUILD=no; else BIN=target/release BUILD=yes; fi
cd "$(dirname "$0")/.."

if [ "$#" -gt 0 ]; then BACKENDS=("$@"); else BACKENDS=(sqlite); fi
TICKETS=${BENCH_TICKETS:-1000000}
PASSWORD=bench-password-1
OUT=target/bench-console
ADDR=127.0.0.1:18480
WORK=$(mktemp -d "${TMPDIR:-/tmp}/growdesk-bench-console.XXXXXX")
SERVER_PID=

# shellcheck source=lib/throwaway-postgres.sh
source scripts/lib/throwaway-postgres.sh

cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "${PG_DIR:-}" ]; then stop_throwaway_postgres; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -x /usr/bin/chromium ] || [ ! -d crates/server/tests/e2e/node_modules/playwright-core ]; then
  echo "This needs Debian's chromium and playwright-core: apt-get install chromium; npm ci --prefix crates/server/tests/e2e" >&2
  exit 1
fi
if [ "$BUILD" = yes ]; then cargo build --release --locked -p growdesk-server -p growdesk-bench; fi
mkdir -p "$OUT"

for backend in "${BACKENDS[@]}"; do
  label="$backend-$TICKETS"
  case "$backend" in
    sqlite)
      database="$OUT/sqlite-$TICKETS.db"
      url="sqlite://$database"
      if [ ! -f "$database" ]; then
        echo "== $label: seeding $database"
        "$BIN"/growdesk-bench seed --database-url "$url" --tickets "$TICKETS" --password "$PASSWORD"
      else
        echo "== $label: reusing $database"
      fi
      ;;
    postgres)
      start_throwaway_postgres -c max_connections=200 -c shared_buffers=512MB -c synchronous_commit=off
      url="postgres://growdesk@127.0.0.1:$PG_PORT/postgres"
      echo "== $label: seeding"
      "$BIN"/growdesk-bench seed --database-url "$url" --tickets "$TICKETS" --password "$PASSWORD"
      ;;
    *)
      echo "unknown backend $backend (sqlite or postgres)" >&2
      exit 1
      ;;
  esac

  GROWDESK_DATABASE_URL="$url" \
  GROWDESK_ADDR=$ADDR \
  GROWDESK_DATA_DIR="$WORK/data-$label" \
  GROWDESK_ADMIN_EMAIL=admin@bench.growdesk.test \
  GROWDESK_ADMIN_PASSWORD="$PASSWORD" \
  GROWDESK_LOG_LEVEL=warn \
  GROWDESK_AUTH_ATTEMPTS_PER_IP_PER_MINUTE=100000 \
  GROWDESK_LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE=100000 \
    "$BIN"/growdesk-server >"$WORK/server-$label.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if curl -fs "http://$ADDR/api/ready" >/dev/null 2>&1; then break; fi
    sleep 0.1
  done
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server-$label.log" >&2; exit 1; }

  echo "== $label: the console in Chromium"
  BASE="http://$ADDR" LABEL="$label" OUT="$PWD/$OUT/$label.json" \
  RUNS=${BENCH_RUNS:-20} EVENTS_PER_MINUTE=${BENCH_EVENTS_PER_MINUTE:-1000} EVENT_SECONDS=${BENCH_EVENT_SECONDS:-60} \
  CHROMIUM=/usr/bin/chromium ARTIFACTS="$WORK" BACKEND="$backend" \
    node crates/server/tests/e2e/bench-console.mjs | tee "$OUT/$label.md"

  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  if [ "$backend" = postgres ]; then stop_throwaway_postgres; PG_DIR=; fi
done
