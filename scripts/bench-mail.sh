#!/usr/bin/env bash
# Benchmark the email channel (BENCHMARKS.md): how fast `growdesk-sync run --once` imports a
# mailbox of MAILS messages (default 10,000) from a throwaway Dovecot, with its peak memory, and
# the delay from a mail's delivery (LMTP into Dovecot) to its ticket on a staff WebSocket with
# IMAP IDLE, p50/p99 over LATENCY_MAILS mails (default 200). BACKEND is sqlite (default) or
# postgres (a throwaway PostgreSQL is started).
#
#   scripts/bench-mail.sh [MAILS] [LATENCY_MAILS] [BACKEND]
#
# BENCH_BINARIES, a directory holding release binaries, measures that build (nothing is built).
set -euo pipefail
mails="${1:-10000}"
latency_mails="${2:-200}"
backend="${3:-sqlite}"
cd "$(dirname "$0")/.."
if [ -n "${BENCH_BINARIES:-}" ]; then
  BIN=$(realpath "$BENCH_BINARIES")
else
  BIN=target/release
  cargo build --release --locked --quiet -p growdesk-sync -p growdesk-server -p growdesk-bench
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

case "$backend" in
  sqlite) url="sqlite://$work/growdesk.db" ;;
  postgres)
    # shellcheck source=lib/throwaway-postgres.sh
    source scripts/lib/throwaway-postgres.sh
    # PostgreSQL as users run it: its defaults (synchronous_commit=on), more connections only.
    start_throwaway_postgres -c max_connections=200
    trap 'stop_throwaway_postgres; rm -rf "$work"' EXIT
    url="$THROWAWAY_POSTGRES_URL" ;;
  *) echo "BACKEND is sqlite or postgres" >&2; exit 2 ;;
esac

echo "backend: $backend"
"$BIN"/growdesk-bench mail --database-url "$url" --work "$work" \
  --sync "$BIN"/growdesk-sync --server "$BIN"/growdesk-server \
  --mails "$mails" --latency-mails "$latency_mails"
