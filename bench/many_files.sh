#!/usr/bin/env bash
# A sentry-scale run at once: many JUnit files and many tox logs in one
# `tox-triage analyze`, to see whether both cores are used. See bench/README.md.
#
# usage: bench/many_files.sh [JUNIT_FILES [JUNIT_MB [LOGS [LOG_MB]]]]
#        (default: 840 JUnit files of 1 MB and 120 logs of 1.5 MB, about 1 GB)
#
# Environment: TT_BENCH_DIR (default ${TMPDIR:-/tmp}/tox-triage-bench), as for run.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
n_junit=${1:-840}
junit_mb=${2:-1}
n_logs=${3:-120}
log_mb=${4:-1.5}
work=${TT_BENCH_DIR:-${TMPDIR:-/tmp}/tox-triage-bench}/many-$n_junit-$junit_mb-$n_logs-$log_mb
bin=$repo/target/release/tox-triage
[ -x /usr/bin/time ] || { echo "many_files.sh: /usr/bin/time (GNU time) is required" >&2; exit 1; }

(cd "$repo" && cargo build --release --quiet)

if [ ! -f "$work/.ok" ]; then
  echo "generating $n_junit JUnit files of $junit_mb MB and $n_logs logs of $log_mb MB into $work..." >&2
  rm -rf "$work"
  mkdir -p "$work/junit" "$work/logs"
  # One Python process for all files: seeds 1..N give different contents.
  python3 - "$here" "$work" "$n_junit" "$junit_mb" "$n_logs" "$log_mb" <<'PY'
import contextlib, importlib.util, sys
here, work, n_junit, junit_mb, n_logs, log_mb = sys.argv[1:]
sys.path.insert(0, here)  # the generators import genlib
def load(name):
    spec = importlib.util.spec_from_file_location(name, f"{here}/{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
gen_junit, gen_toxlog = load("gen_junit"), load("gen_toxlog")
# The generators print their counts on stdout: send them to /dev/null.
with open("/dev/null", "w") as null, contextlib.redirect_stdout(null):
    for i in range(int(n_junit)):
        gen_junit.main(["gen_junit", junit_mb, f"{work}/junit/report-{i:04d}.xml", "--seed", str(i + 1)])
    for i in range(int(n_logs)):
        gen_toxlog.main(["gen_toxlog", log_mb, f"{work}/logs/job-{i:03d}.log", "--github", "--seed", str(i + 1)])
PY
  touch "$work/.ok"
fi

files=$(find "$work/junit" "$work/logs" -type f | wc -l)
bytes=$(find "$work/junit" "$work/logs" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
# warm: the inputs read into the page cache, untimed, before every run (this
# VM's host takes page cache back at several MB a second; see README.md).
warm() { find "$work/junit" "$work/logs" -type f -exec cat {} + >/dev/null; cat "$bin" >/dev/null; }

# row NAME CMD...: best wall time of 3 runs, with CPU time and peak RSS of that run.
row() {
  local name=$1; shift
  local best="" line
  for _ in 1 2 3; do
    warm
    /usr/bin/time -f '%e %U %S %M' -o "$work/time.out" "$@" >/dev/null 2>"$work/stderr" ||
      { echo "$name failed:" >&2; tail -n 5 "$work/stderr" >&2; exit 1; }
    line=$(tail -n 1 "$work/time.out")
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then best=$line; fi
  done
  read -r wall user sys rss <<<"$best"
  awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v mb="$mb" 'BEGIN {
    printf "| %-24s | %8.2f | %8.2f | %8.1f | %8.2f | %8.1f |\n", n, w, u + s, mb / (w > 0 ? w : 0.01), (u + s) / (w > 0 ? w : 0.01), r / 1024 }'
}

echo "## many files: $files files ($n_junit JUnit x $junit_mb MB, $n_logs GitHub job logs x $log_mb MB), $mb MB, $(nproc) CPUs"
echo "| tool                     |   wall s |  CPU s |     MB/s | cores used | RSS MB |"
echo "|--------------------------|---------:|-------:|---------:|-----------:|-------:|"
row "tox-triage" "$bin" analyze --junit "$work/junit" --log "$work/logs/*.log" --json "$work/report.json"
row "floor: cat > /dev/null" sh -c "find '$work/junit' '$work/logs' -type f -exec cat {} + >/dev/null"
row "floor: wc -l" sh -c "find '$work/junit' '$work/logs' -type f -exec wc -l {} + >/dev/null"
python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["summary"]; print("tox-triage summary:", s)' "$work/report.json"
