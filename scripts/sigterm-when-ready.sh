#!/usr/bin/env bash
# Starts a command, sends it SIGTERM the moment a line of its standard output (with --stderr:
# of its standard error) contains PATTERN, and exits with the command's exit status (3 when
# the line never came). The kill is bash's builtin, so the signal follows the line within
# microseconds: a process that announces itself before its signal handlers are in place dies
# of the signal (status 143) instead of stopping cleanly.
#
# Usage: scripts/sigterm-when-ready.sh [--stderr] PATTERN COMMAND [ARG...]
set -euo pipefail
watch_stderr=false
if [[ ${1:-} == --stderr ]]; then
  watch_stderr=true
  shift
fi
pattern=$1
shift
if $watch_stderr; then
  coproc WATCHED { exec "$@" 2>&1 >/dev/null; }
else
  coproc WATCHED { exec "$@" 2>/dev/null; }
fi
pid=$WATCHED_PID
# bash forgets a coprocess's descriptors once it exits; keep our own copy.
exec {lines}<&"${WATCHED[0]}"
seen=false
while IFS= read -r line <&"$lines"; do
  if [[ $line == *"$pattern"* ]]; then
    kill -TERM "$pid"
    seen=true
    break
  fi
done
status=0
wait "$pid" || status=$?
if ! $seen; then
  echo "sigterm-when-ready: no line contained \"$pattern\"" >&2
  exit 3
fi
exit "$status"
