#!/usr/bin/env bash
# Regression guard for .ci/run: fails only on a gross slowdown.
#
# Times tox-triage on generated 50 MB JUnit and tox-log inputs against `wc -l`
# on the same files, in the same run, and compares the ratio (never an
# absolute time) with the one recorded in bench/guard-baseline: more than 5x
# the recorded ratio fails. It also runs each once with `--json` and fails if
# its peak RSS is over 64 MB (the memory target of BENCHMARKS.md, which these
# inputs are well under: a failure means something now grows with the bytes
# read).
#
#   bench/guard.sh [path/to/tox-triage]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../target/release/tox-triage}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/gen_junit.py" 50 "$work/guard.xml" >/dev/null
python3 "$here/gen_toxlog.py" 50 "$work/guard.log" >/dev/null
cat "$work"/* >/dev/null

# best N cmd...: the best wall time of N runs, in seconds.
best() {
  local n=$1; shift
  python3 - "$n" "$@" <<'PY'
import subprocess, sys, time
n = int(sys.argv[1]); cmd = sys.argv[2:]
t = min(
    (lambda s: (subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True), time.perf_counter() - s)[1])(time.perf_counter())
    for _ in range(n)
)
print(f"{t:.4f}")
PY
}

# peak cmd...: the peak RSS of one run, in MB (the children's `ru_maxrss`).
peak() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1))
PY
}
max_rss_mb=64

status=0
while read -r kind limit; do
  case $kind in ''|'#'*) continue;; esac
  file=$work/guard.xml; flag=--junit
  [ "$kind" = log ] && file=$work/guard.log && flag=--log
  floor=$(best 7 wc -l "$file")
  tt=$(best 3 "$bin" analyze "$flag" "$file")
  ratio=$(python3 -c "print(round($tt / max($floor, 0.001), 1))")
  allowed=$(python3 -c "print(round($limit * 5, 1))")
  verdict=ok
  python3 -c "import sys; sys.exit(0 if $ratio <= $allowed else 1)" || { verdict=TOO-SLOW; status=1; }
  echo "guard $kind: tox-triage ${tt}s, wc -l ${floor}s, ratio $ratio (recorded $limit, fails above $allowed): $verdict"
  rss=$(peak "$bin" analyze "$flag" "$file" --json "$work/guard.json")
  verdict=ok
  python3 -c "import sys; sys.exit(0 if $rss <= $max_rss_mb else 1)" || { verdict=TOO-LARGE; status=1; }
  echo "guard $kind: peak RSS ${rss} MB with --json (fails above $max_rss_mb MB): $verdict"
done <"$here/guard-baseline"
exit $status
