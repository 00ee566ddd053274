#!/usr/bin/env bash
# Soak: runs the test suite (or part of it) several times in a row and reports, per run, whether
# it passed, how long it took, how many keyring daemons died unexpectedly, and whether anything
# was left behind (folders in the temp dir, keyring/bus/keytar processes).
#
#   scripts/soak.sh [--runs N] [--busy] [-- vitest args…]
#
#   --runs N   number of runs (default 3)
#   --busy     hold one core with a busy loop (`while :; do :; done`) for the whole soak
#   vitest args, e.g. `--project @fishbowl/desktop-layer --project @fishbowl/desktop`
#
# Logs go to ${SOAK_LOG_DIR:-<temp>/fishbowl-soak-<time>}. Exit 0 only if every run passed with
# no unexpected daemon death and nothing left behind.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=3
busy=0
vitest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --busy) busy=1; shift ;;
    --) shift; vitest_args=("$@"); break ;;
    *) vitest_args+=("$1"); shift ;;
  esac
done

tmp="${TMPDIR:-/tmp}"
logs="${SOAK_LOG_DIR:-$tmp/fishbowl-soak-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$logs"

busy_pid=""
# SIGKILL: a subshell spinning in `while :` may not act on SIGTERM (seen here under job control)
stop_busy() { [ -n "$busy_pid" ] && kill -KILL "$busy_pid" 2>/dev/null; busy_pid=""; }
trap stop_busy EXIT
if [ "$busy" = 1 ]; then
  ( while :; do :; done ) &
  busy_pid=$!
fi

leftovers() { find "$tmp" -maxdepth 1 -name 'fishbowl-*' ! -name 'fishbowl-soak-*' -printf '%f\n' 2>/dev/null | sort; }
strays() {
  pgrep -f 'keytar-worker\.cjs' | sed 's/^/keytar-worker:/'
  pgrep -f 'fishbowl-ss-.*bus\.conf' | sed 's/^/dbus-daemon:/'
  pgrep -x gnome-keyring-d | sed 's/^/gnome-keyring-daemon:/'
}

failed=0
printf '%-4s %-6s %8s %8s %10s %s\n' run result seconds deaths leftovers strays
for i in $(seq 1 "$runs"); do
  before_files=$(leftovers)
  before_procs=$(strays | sort)
  start=$(date +%s.%N)
  npx vitest run "${vitest_args[@]}" > "$logs/run-$i.log" 2>&1
  code=$?
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  sleep 2 # a drained keytar worker or a watchdog may take a moment to exit
  deaths=$(grep -c 'exited unexpectedly' "$logs/run-$i.log")
  new_files=$(comm -13 <(echo "$before_files") <(leftovers) | grep -c . )
  new_procs=$(comm -13 <(echo "$before_procs") <(strays | sort) | grep -c . )
  result=pass
  if [ "$code" -ne 0 ] || [ "$deaths" -ne 0 ] || [ "$new_files" -ne 0 ] || [ "$new_procs" -ne 0 ]; then result=FAIL; failed=$((failed + 1)); fi
  printf '%-4s %-6s %8s %8s %10s %s\n' "$i" "$result" "$seconds" "$deaths" "$new_files" "$new_procs"
  sed 's/\x1b\[[0-9;]*m//g' "$logs/run-$i.log" | grep -E '^ *(Test Files|Tests) ' | sed 's/^ */     /'
done
stop_busy
echo "soak: $((runs - failed)) passed, $failed failed (busy loop: $([ "$busy" = 1 ] && echo on || echo off)); logs in $logs"
[ "$failed" -eq 0 ]
