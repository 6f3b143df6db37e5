#!/usr/bin/env bash
# Fails when a test log or report holds a secret the tests used: any password or signing key
# written as a literal in the test sources, any JWT (access, refresh or visitor token) and any
# webhook signing secret. Run by scripts/test.sh over what the test run wrote.
# Usage: scripts/check-logs-for-secrets.sh DIR_OR_FILE...
set -euo pipefail
cd "$(dirname "$0")/.."

# Literal passwords and keys of the tests: hyphenated words around "password", "pw" or "secret"
# ("admin-password-1", "root-password-1", "test-signing-key-…"); field names use underscores.
# Left out: Playwright's "x-pw-" names, the key file's name "jwt-secret", an email "no-password@…".
mapfile -t literals < <(
  grep -rhoE '"[A-Za-z0-9]+(-[A-Za-z0-9]+)*-(password|pw|secret|signing-key)(-[A-Za-z0-9]+)*"|"(password|secret)-[A-Za-z0-9-]+"|"test-signing-key-[A-Za-z0-9-]+"' \
    crates/*/tests crates/*/src --include='*.rs' |
    tr -d '"' | grep -v -e '^x-pw-' -e '^jwt-secret$' -e '^no-password$' | sort -u
)
patterns=(-e 'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}' -e 'whsec_[A-Za-z0-9+/=]{16,}')
for literal in "${literals[@]}"; do
  patterns+=(-e "$literal")
done

found=0
for target in "$@"; do
  [ -e "$target" ] || continue
  if grep -rEl "${patterns[@]}" "$target"; then
    found=1
  fi
done
if [ "$found" = 1 ]; then
  echo "secrets found in the test logs above (checked ${#literals[@]} test passwords and keys, JWTs, webhook secrets)" >&2
  exit 1
fi
echo "no secrets in the test logs (checked ${#literals[@]} test passwords and keys, JWTs, webhook secrets in: $*)"
