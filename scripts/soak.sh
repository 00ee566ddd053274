#!/usr/bin/env bash
# Soak: runs the test suite (or part of it) several times in a row and reports, per run, whether
# it passed, how long it took, how many keyring daemons died unexpectedly, and whether anything
# was left behind (folders in the temp dir, keyring/bus/keytar processes).
#
#   scripts/soak.sh [--runs N] [--busy | --slow] [--seed N] [-- vitest args…]
#
#   --runs N   number of runs (default 3)
#   --busy     hold one core with a busy loop (`while :; do :; done`) for the whole soak
#   --slow     slow-machine mode: the suite and everything it starts (keyring, Chromium, children)
#              run pinned to one core (taskset), and a busy loop holds that same core: about a
#              machine three times slower, under load
#   --seed N   the property tests' seed for every run (default: a new one per run, printed, so a
#              soak explores inputs CI does not; CI uses the fixed seed of vitest.setup.ts)
#   vitest args, e.g. `--project @fishbowl/desktop-layer --project @fishbowl/desktop`
#
# Logs go to ${SOAK_LOG_DIR:-<temp>/fishbowl-soak-<time>}. Exit 0 only if every run passed with
# no unexpected daemon death and nothing left behind.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=3
busy=0
slow=0
seed=""
vitest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --busy) busy=1; shift ;;
    --slow) slow=1; busy=1; shift ;;
    --seed) seed="$2"; shift 2 ;;
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
# slow-machine mode: one core for the suite, shared with the busy loop
pin=()
if [ "$slow" = 1 ]; then
  command -v taskset >/dev/null 2>&1 || { echo "soak: --slow needs taskset (apt install util-linux)" >&2; exit 2; }
  core=$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')
  pin=(taskset -c "$core")
fi
if [ "$busy" = 1 ]; then
  "${pin[@]}" bash -c 'while :; do :; done' &
  busy_pid=$!
fi

leftovers() { find "$tmp" -maxdepth 1 -name 'fishbowl-*' ! -name 'fishbowl-soak-*' -printf '%f\n' 2>/dev/null | sort; }
strays() {
  pgrep -f 'keytar-worker\.cjs' | sed 's/^/keytar-worker:/'
  pgrep -f 'fishbowl-ss-.*bus\.conf' | sed 's/^/dbus-daemon:/'
  pgrep -x gnome-keyring-d | sed 's/^/gnome-keyring-daemon:/'
}

failed=0
printf '%-4s %-6s %8s %8s %10s %-6s %s\n' run result seconds deaths leftovers strays seed
for i in $(seq 1 "$runs"); do
  before_files=$(leftovers)
  before_procs=$(strays | sort)
  run_seed="${seed:-$(( (RANDOM << 15 | RANDOM) + 1 ))}"
  start=$(date +%s.%N)
  FISHBOWL_PROPERTY_SEED="$run_seed" "${pin[@]}" npx vitest run "${vitest_args[@]}" > "$logs/run-$i.log" 2>&1
  code=$?
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  sleep 2 # a drained keytar worker or a watchdog may take a moment to exit
  deaths=$(grep -c 'exited unexpectedly' "$logs/run-$i.log")
  new_files=$(comm -13 <(echo "$before_files") <(leftovers) | grep -c . )
  new_procs=$(comm -13 <(echo "$before_procs") <(strays | sort) | grep -c . )
  result=pass
  if [ "$code" -ne 0 ] || [ "$deaths" -ne 0 ] || [ "$new_files" -ne 0 ] || [ "$new_procs" -ne 0 ]; then result=FAIL; failed=$((failed + 1)); fi
  printf '%-4s %-6s %8s %8s %10s %-6s %s\n' "$i" "$result" "$seconds" "$deaths" "$new_files" "$new_procs" "$run_seed"
  sed 's/\x1b\[[0-9;]*m//g' "$logs/run-$i.log" | grep -E '^ *(Test Files|Tests) ' | sed 's/^ */     /'
done
stop_busy
mode=$([ "$slow" = 1 ] && echo "slow machine: one core shared with a busy loop" || { [ "$busy" = 1 ] && echo "busy loop on one core" || echo "idle"; })
echo "soak: $((runs - failed)) passed, $failed failed ($mode); logs in $logs"
[ "$failed" -eq 0 ]
