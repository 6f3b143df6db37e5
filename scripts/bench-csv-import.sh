#!/usr/bin/env bash
# Benchmark: import a generated CSV of ROWS tickets (default 1,000,000) into a fresh SQLite
# database with the release build of growdesk-sync, and print the rate and the peak memory
# (maximum resident set size). The target is under 256 MB whatever the row count.
#
#   scripts/bench-csv-import.sh [ROWS]
set -euo pipefail
rows="${1:-1000000}"
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet -p growdesk-sync
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

awk -v rows="$rows" 'BEGIN {
    print "external_id,subject,body,email,name,priority,status,category,tags,created_at"
    for (i = 1; i <= rows; i++) {
        printf "%d,Order %d never arrived,\"I ordered on the 3rd, paid by card, and the parcel has not arrived. Tracking says it left the depot a week ago. Please help, order %d.\",customer%d@example.com,Customer %d,%s,%s,%s,\"shipping,late\",2024-%02d-%02d\n",
            i, i, i, i % 50000, i % 50000, (i % 4 == 0 ? "high" : "normal"), (i % 3 == 0 ? "solved" : "open"),
            (i % 5 == 0 ? "Billing" : "Shipping"), 1 + i % 12, 1 + i % 28
    }
}' > "$work/tickets.csv"
echo "rows: $rows ($(du -h "$work/tickets.csv" | cut -f1) of CSV)"

/usr/bin/time -f "%e %M" -o "$work/time" \
    target/release/growdesk-sync --database-url "sqlite://$work/growdesk.db" --data-dir "$work" \
    import csv "$work/tickets.csv" >"$work/summary" 2>"$work/stderr" || true
read -r seconds max_rss_kb < "$work/time"
echo "summary: $(head -1 "$work/summary")"
awk -v rows="$rows" -v s="$seconds" -v kb="$max_rss_kb" 'BEGIN {
    printf "time: %.1f s (%.0f rows/s)\npeak memory (max RSS): %.1f MB\n", s, rows / s, kb / 1024
}'
