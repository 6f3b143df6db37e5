#!/usr/bin/env bash
# The agent console (console/): installs its pinned packages (npm ci), checks that its API
# types are those generated from api/openapi.json, type-checks it (vue-tsc), runs its unit
# tests (vitest), builds it, and fails when the build differs from the one committed in
# crates/http/console-dist (which the server embeds, so that `cargo run` needs no Node.js) or
# when its JavaScript and CSS together exceed 200 KB compressed.
set -euo pipefail
cd "$(dirname "$0")/.."

DIST=crates/http/console-dist
BUDGET_BYTES=$((200 * 1024))

if ! command -v npm >/dev/null 2>&1; then
  echo "The console needs Node.js 20.19 or later and npm (https://nodejs.org, or your distribution's nodejs and npm)." >&2
  exit 1
fi

cd console
npm ci --no-audit --no-fund --silent
# Type-checked against types freshly generated from the API first, so that an API change that
# breaks the console fails here, naming the console's code; then the committed types must be
# those.
npm run --silent api-types >/dev/null
npm run --silent typecheck
if ! git diff --exit-code --stat -- src/api/schema.ts; then
  echo "console/src/api/schema.ts is not what api/openapi.json generates: run 'npm run api-types' in console/ and commit it." >&2
  exit 1
fi
npm run --silent test
npm run --silent build >/dev/null
cd ..

if ! git diff --exit-code --stat -- "$DIST" || [ -n "$(git status --porcelain --untracked-files=all -- "$DIST")" ]; then
  git status --short -- "$DIST" >&2
  echo "The committed console build in $DIST differs from a fresh build of console/: run 'npm run build' in console/ and commit $DIST." >&2
  exit 1
fi

compressed=0
for file in "$DIST"/assets/*.js "$DIST"/assets/*.css; do
  compressed=$((compressed + $(gzip -9 -c "$file" | wc -c)))
done
echo "console: JavaScript and CSS are $((compressed / 1024)) KB compressed (budget $((BUDGET_BYTES / 1024)) KB)"
if [ "$compressed" -gt "$BUDGET_BYTES" ]; then
  echo "The console's JavaScript and CSS exceed the budget of $((BUDGET_BYTES / 1024)) KB compressed." >&2
  exit 1
fi
