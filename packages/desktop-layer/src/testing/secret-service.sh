#!/bin/sh
# Watchdog for SecretServiceHarness.ts: kills the harness's daemons if the test
# process dies without running its cleanup (SIGKILL, crash, vitest worker teardown).
#
# usage: secret-service.sh watchdog <parent-pid> <state-dir>
#   <state-dir>/pids lists the pids to kill (one per line; rewritten by the harness).
#   Exits quietly as soon as <state-dir> is removed (normal stop()).
#   A listed pid is killed only if that process still belongs to this harness (its command line
#   or environment names <state-dir>): pids are reused quickly on busy machines, and another
#   test's daemon must never be hit.
set -u
[ "${1:-}" = watchdog ] || { echo "usage: $0 watchdog <parent-pid> <state-dir>" >&2; exit 2; }
parent=$2
dir=$3
while [ -d "$dir" ]; do
  if ! kill -0 "$parent" 2>/dev/null; then
    if [ -f "$dir/pids" ]; then
      for p in $(cat "$dir/pids"); do
        if grep -qaF "$dir" "/proc/$p/cmdline" "/proc/$p/environ" 2>/dev/null; then kill -9 "$p" 2>/dev/null; fi
      done
    fi
    rm -rf "$dir"
    exit 0
  fi
  sleep 1
done
exit 0
