#!/usr/bin/env bash
# The dependency policy in deny.toml: licences, banned crates (a second TLS stack), sources
# (crates.io only), duplicate versions listed. Installs the pinned cargo-deny from crates.io
# when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2
if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "$CARGO_DENY_VERSION" ]; then
  echo "installing cargo-deny $CARGO_DENY_VERSION"
  cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION" --quiet
fi
cargo deny check licenses bans sources
