#!/usr/bin/env bash
# Profile a ticket's creation and a reply statement by statement on PostgreSQL with its defaults
# (synchronous_commit on, as users run it): a throwaway cluster with pg_stat_statements, a seeded
# database of TICKETS tickets (default 1,000), the release server, then for each write scenario
# and each level of CONCURRENCY (default "1 32"): the statistics reset, `growdesk-bench load`
# for SECONDS (default 5), and a table of every statement the server ran, per request — calls,
# rows, execution time — with the request's own latency beside it. Statements run by a trigger
# or a function show as nested (their time is also inside the statement that ran them, so the
# totals count top-level statements only). What is not execution is round trips, waiting for
# the commit's WAL flush, and the server's own work. Beside it, the CPU time each request cost the
# server, PostgreSQL and the load generator, which share the machine's cores.
#
#   scripts/profile-writes.sh [TICKETS] [SECONDS] [CONCURRENCY...]
#
# BENCH_BINARIES, a directory holding release binaries, measures that build (nothing is built).
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-1000}
seconds=${2:-5}
shift $(($# > 2 ? 2 : $#))
levels=("${@:-1 32}")
read -r -a levels <<<"${levels[*]}"
if [ -n "${BENCH_BINARIES:-}" ]; then
  BIN=$(realpath "$BENCH_BINARIES")
else
  BIN=target/release
  cargo build --release --locked --quiet -p growdesk-server -p growdesk-bench
fi
PASSWORD=bench-password-1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/growdesk-profile.XXXXXX")
PIDS=()

# shellcheck source=lib/throwaway-postgres.sh
source scripts/lib/throwaway-postgres.sh
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ -n "${PG_DIR:-}" ]; then stop_throwaway_postgres; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start_throwaway_postgres -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all
sql() { psql -q -X -h 127.0.0.1 -p "$PG_PORT" -U growdesk -d profile "$@"; }
psql -q -X -h 127.0.0.1 -p "$PG_PORT" -U growdesk -d postgres -c 'CREATE DATABASE profile'
sql -c 'CREATE EXTENSION pg_stat_statements'
url="postgres://growdesk@127.0.0.1:$PG_PORT/profile"
"$BIN"/growdesk-bench seed --database-url "$url" --tickets "$tickets" --password "$PASSWORD"

GROWDESK_DATABASE_URL="$url" GROWDESK_ADDR=127.0.0.1:18080 GROWDESK_DATA_DIR="$WORK/data" \
  GROWDESK_ADMIN_EMAIL=admin@bench.growdesk.test GROWDESK_ADMIN_PASSWORD="$PASSWORD" \
  GROWDESK_LOG_LEVEL=warn GROWDESK_ACCESS_TOKEN_TTL_SECS=86400 \
  GROWDESK_AUTH_ATTEMPTS_PER_IP_PER_MINUTE=100000000 \
  GROWDESK_LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE=100000000 \
  "$BIN"/growdesk-server >"$WORK/server.log" 2>&1 &
server=$!
PIDS+=("$server")
"$BIN"/growdesk-bench floor --database-url "$url" --addr 127.0.0.1:18090 >"$WORK/floor.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 200); do
  if curl -fs http://127.0.0.1:18080/api/ready >/dev/null && curl -fs http://127.0.0.1:18090/floor/constant >/dev/null; then break; fi
  sleep 0.1
done

# CPU time used so far, in clock ticks: by processes PIDS (ticks PID...), or by this shell's
# finished children in milliseconds (child_ms sets CHILD_MS; `times` must run in this shell, not
# in a command substitution's).
ticks() {
  local total=0 pid fields
  for pid in "$@"; do
    if [ -r "/proc/$pid/stat" ]; then
      read -r -a fields < <(sed 's/^.*) //' "/proc/$pid/stat")
      total=$((total + fields[11] + fields[12]))
    fi
  done
  echo "$total"
}
child_ms() {
  times >"$WORK/times"
  CHILD_MS=$(tail -1 "$WORK/times" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }')
}
postgres_pids() {
  local postmaster
  postmaster=$(head -1 "$PG_DIR/data/postmaster.pid")
  echo "$postmaster" $(pgrep -P "$postmaster")
}
HZ=$(getconf CLK_TCK)
CORES=$(nproc)

# The statement each request runs once, whose calls count the requests (warm-up included).
declare -A ONCE=([create_ticket]='INSERT INTO tickets %' [post_message]='INSERT INTO messages %')
for scenario in create_ticket post_message; do
  for clients in "${levels[@]}"; do
    sql -c 'SELECT pg_stat_statements_reset()' >/dev/null
    read -r -a pg_before < <(postgres_pids)
    child_ms
    server_ticks=$(ticks "$server") pg_ticks=$(ticks "${pg_before[@]}") load_ms=$CHILD_MS
    "$BIN"/growdesk-bench load --label profile --backend postgres-defaults --database-url "$url" \
      --target http://127.0.0.1:18080 --floor http://127.0.0.1:18090 --server-pid "$server" \
      --seconds "$seconds" --concurrency "$clients" --settle-seconds 0 --only "$scenario" \
      --out "$WORK/$scenario-$clients.json" >/dev/null
    server_ticks=$(($(ticks "$server") - server_ticks)) pg_ticks=$(($(ticks "${pg_before[@]}") - pg_ticks))
    child_ms
    load_ms=$((CHILD_MS - load_ms))
    echo
    echo "### $scenario, $clients client(s) on PostgreSQL with its defaults"
    jq -r '.runs[] | "\(.rps | floor) req/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, server CPU \(.server_cpu_us | floor) µs/req"' \
      "$WORK/$scenario-$clients.json"
    requests=$(sql -At -c "SELECT sum(calls) FROM pg_stat_statements WHERE query LIKE '${ONCE[$scenario]}'")
    awk -v r="$requests" -v s="$server_ticks" -v p="$pg_ticks" -v l="$load_ms" -v hz="$HZ" -v cores="$CORES" 'BEGIN {
      server = s * 1e6 / hz / r; pg = p * 1e6 / hz / r; load = l * 1e3 / r; all = server + pg + load
      printf "CPU per request (warm-up included): server %.0f µs, PostgreSQL %.0f µs, load generator %.0f µs; together %.0f µs, so %d cores hold at most %.0f req/s\n", server, pg, load, all, cores, cores * 1e6 / all }'
    sql -v once="${ONCE[$scenario]}" <<'SQL'
\pset footer off
CREATE TEMP VIEW mine AS
  SELECT s.* FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
  WHERE d.datname = 'profile' AND s.query NOT LIKE '%pg_stat_statements%' AND s.query NOT LIKE '%TEMP VIEW%';
CREATE TEMP VIEW requests AS
  SELECT sum(calls)::numeric AS n FROM mine WHERE query LIKE :'once';
SELECT round(calls / requests.n, 2) AS "calls/req",
       round(rows / greatest(calls, 1)::numeric, 1) AS "rows/call",
       round(mean_exec_time::numeric, 3) AS "mean ms",
       round((total_exec_time / requests.n)::numeric, 3) AS "ms/req",
       CASE WHEN toplevel THEN '' ELSE 'nested' END AS "run by",
       left(regexp_replace(query, '\s+', ' ', 'g'), 100) AS statement
FROM mine, requests
WHERE calls >= requests.n / 10
ORDER BY total_exec_time DESC;
SELECT round((sum(total_exec_time) / requests.n)::numeric, 3) AS "execution ms per request, all statements",
       round(sum(calls) / requests.n, 1) AS "statements per request"
FROM mine, requests WHERE toplevel GROUP BY requests.n;
SQL
  done
done
