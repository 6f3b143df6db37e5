#!/usr/bin/env bash
# The README's screenshots of the console (docs/screenshots/): a demo desk on a fresh SQLite
# database, seeded by `growdesk-bench seed` (tickets over the past year in the words of the Bitext
# customer-support sample, crates/bench/corpus, CDLA-Sharing-1.0; invented names), served by the
# release server, and headless Chromium through every screen in English and Spanish, light and
# dark (crates/server/tests/e2e/screenshots.mjs). Run it again after changing how the console
# looks, and commit docs/screenshots.
#
# Environment: SCREENSHOT_BINARIES (a directory of release binaries to use instead of building
#   them), SCREENSHOT_PNG (a directory for PNG copies, to look at), QUALITY (WebP, 72).
set -euo pipefail
if [ -n "${SCREENSHOT_BINARIES:-}" ]; then BIN=$(realpath "$SCREENSHOT_BINARIES") BUILD=no; else BIN=target/release BUILD=yes; fi
PNG=${SCREENSHOT_PNG:+$(realpath -m "$SCREENSHOT_PNG")}
cd "$(dirname "$0")/.."

ADDR=127.0.0.1:18580
PASSWORD=demo-password-1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/growdesk-screenshots.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -x /usr/bin/chromium ] || [ ! -d crates/server/tests/e2e/node_modules/playwright-core ]; then
  echo "This needs Debian's chromium and playwright-core: apt-get install chromium; npm ci --prefix crates/server/tests/e2e" >&2
  exit 1
fi
if [ "$BUILD" = yes ]; then cargo build --release --locked -p growdesk-server -p growdesk-bench; fi

url="sqlite://$WORK/demo.db"
"$BIN"/growdesk-bench seed --database-url "$url" --tickets 2000 --agents 6 --customers 300 --password "$PASSWORD" >/dev/null
GROWDESK_DATABASE_URL="$url" \
GROWDESK_ADDR=$ADDR \
GROWDESK_DATA_DIR="$WORK/data" \
GROWDESK_ADMIN_EMAIL=admin@example.com \
GROWDESK_ADMIN_PASSWORD="$PASSWORD" \
GROWDESK_LOG_LEVEL=warn \
  "$BIN"/growdesk-server >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  if curl -fs "http://$ADDR/api/ready" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }

rm -rf docs/screenshots
BASE="http://$ADDR" OUT="$PWD/docs/screenshots" PNG_OUT="$PNG" ADMIN_EMAIL=admin@example.com PASSWORD="$PASSWORD" \
CHROMIUM=/usr/bin/chromium ARTIFACTS="$WORK" BACKEND=sqlite \
  node crates/server/tests/e2e/screenshots.mjs
du -ch docs/screenshots/*.webp | tail -1
