#!/usr/bin/env bash
# Runs every test against SQLite and a real PostgreSQL, the widget and the console in headless
# Chromium, and the console's own checks.
#
# Unless GROWDESK_TEST_DATABASE_URL names a server to use, a throwaway PostgreSQL cluster is
# created in a temporary directory (as the unprivileged `postgres` user when run as root, since
# initdb refuses root), started on 127.0.0.1 on a free port, and removed when the tests end.
# Extra arguments go to `cargo test` (for example a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib/throwaway-postgres.sh
source scripts/lib/throwaway-postgres.sh

# The browser tests (the widget, the console) drive Debian's Chromium with playwright-core and
# check accessibility with axe-core (both from npm).
ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing Chromium for the browser test"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "The browser test needs Chromium at /usr/bin/chromium (Debian: apt-get install chromium)." >&2
      exit 1
    fi
  fi
  if [ ! -d crates/server/tests/e2e/node_modules/playwright-core ] || [ ! -d crates/server/tests/e2e/node_modules/axe-core ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "The browser test needs Node.js and npm (Debian: apt-get install nodejs npm)." >&2
      exit 1
    fi
    npm ci --prefix crates/server/tests/e2e --no-audit --no-fund --silent
  fi
}

# The mail tests start a throwaway Dovecot 2.3 (IMAP and LMTP, growdesk_mail::testkit) from
# Debian's dovecot-imapd and dovecot-lmtpd; the system's own Dovecot service is never used.
ensure_dovecot() {
  if [ ! -x /usr/lib/dovecot/imap ] || [ ! -x /usr/lib/dovecot/lmtp ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing Dovecot for the mail tests"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd dovecot-lmtpd >/dev/null
    else
      echo "The mail tests need Dovecot (Debian: apt-get install dovecot-imapd dovecot-lmtpd)." >&2
      exit 1
    fi
  fi
}

# The API fuzz test runs schemathesis, pinned in its requirements file, from a virtualenv in
# target/py; it is (re)created only when missing or at another version.
ensure_schemathesis() {
  local requirements=crates/server/tests/fuzz/requirements.txt venv=target/py
  local pinned
  pinned=$(sed -n 's/^schemathesis==//p' "$requirements")
  if [ "$("$venv/bin/st" --version 2>/dev/null | awk '{print $NF}')" != "$pinned" ]; then
    echo "installing schemathesis $pinned into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  fi
  GROWDESK_SCHEMATHESIS="$(pwd)/$venv/bin/st"
  export GROWDESK_SCHEMATHESIS
}

# The OpenAPI document is checked by openapi-spec-validator, pinned in its own requirements
# file, in the same virtualenv.
ensure_openapi_validator() {
  local requirements=crates/server/tests/openapi/requirements.txt venv=target/py
  local pinned
  pinned=$(sed -n 's/^openapi-spec-validator==//p' "$requirements")
  if [ "$("$venv/bin/openapi-spec-validator" --version 2>/dev/null | awk '{print $NF}')" != "$pinned" ]; then
    echo "installing openapi-spec-validator $pinned into $venv"
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  fi
  GROWDESK_OPENAPI_VALIDATOR="$(pwd)/$venv/bin/openapi-spec-validator"
  export GROWDESK_OPENAPI_VALIDATOR
}

ensure_browser
ensure_dovecot
ensure_schemathesis
ensure_openapi_validator
# The console's types against the API, its unit tests, and its committed build against a fresh
# one (the server embeds that build).
scripts/check-console.sh
if [ -z "${GROWDESK_TEST_DATABASE_URL:-}" ]; then
  trap stop_throwaway_postgres EXIT
  # fsync and synchronous commit are off: this cluster lives for one test run.
  start_throwaway_postgres -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off
  export GROWDESK_TEST_DATABASE_URL="$THROWAWAY_POSTGRES_URL"
fi

# The run's output is kept, and it and every report the tests wrote are searched for the
# passwords, keys and tokens the tests used.
mkdir -p target/test-logs
cargo test --workspace --all-targets --locked "$@" 2>&1 | tee target/test-logs/cargo-test.log
scripts/check-logs-for-secrets.sh target/test-logs target/fuzz-reports target/e2e-artifacts
