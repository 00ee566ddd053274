#!/bin/sh
# Watchdog for SecretServiceHarness.ts: kills the harness's daemons if the test
# process dies without running its cleanup (SIGKILL, crash, vitest worker teardown).
#
# usage: secret-service.sh watchdog <parent-pid> <state-dir>
#   <state-dir>/pids lists the pids to kill (one per line; rewritten by the harness).
#   Exits quietly as soon as <state-dir> is removed (normal stop()).
set -u
[ "${1:-}" = watchdog ] || { echo "usage: $0 watchdog <parent-pid> <state-dir>" >&2; exit 2; }
parent=$2
dir=$3
while [ -d "$dir" ]; do
  if ! kill -0 "$parent" 2>/dev/null; then
    if [ -f "$dir/pids" ]; then
      for p in $(cat "$dir/pids"); do kill -9 "$p" 2>/dev/null; done
    fi
    rm -rf "$dir"
    exit 0
  fi
  sleep 1
done
exit 0
