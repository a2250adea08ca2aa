#!/usr/bin/env bash
# Benchmark harness for tox-triage: see bench/README.md.
#
# usage: bench/run.sh [SIZE_MB...]        (default: 10 200; 1000 is optional)
#
# Environment:
#   TT_BENCH_DIR      work dir for inputs, peers, scratch (default ${TMPDIR:-/tmp}/tox-triage-bench)
#   TT_BENCH_TIMEOUT  per-run time limit in seconds (default 300)
#   TT_BENCH_MEM_MB   per-run address-space limit in MB, ulimit -v (default 75% of RAM);
#                     not applied to Node, which keeps V8's default heap limit
#   TT_BENCH_RUNS     runs per tool when a run takes < 10 s; the best is kept (default 3;
#                     at least 7 when the first run takes < 0.5 s)
#   TT_BENCH_PEERS    0 to skip the Python/Node peers (default 1)
#   TT_BENCH_LOGS     0 to skip the tox-log inputs (default 1)
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH_DIR")
if [ "$#" -gt 0 ]; then SIZES=("$@"); else SIZES=(10 200); fi
WORK=${TT_BENCH_DIR:-${TMPDIR:-/tmp}/tox-triage-bench}
TIME_LIMIT=${TT_BENCH_TIMEOUT:-300}
RUNS=${TT_BENCH_RUNS:-3}
WITH_PEERS=${TT_BENCH_PEERS:-1}
WITH_LOGS=${TT_BENCH_LOGS:-1}
MEM_TOTAL_KB=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
MEM_LIMIT_MB=${TT_BENCH_MEM_MB:-$((MEM_TOTAL_KB * 3 / 4 / 1024))}
INPUTS=$WORK/inputs
PEERS=$WORK/peers
SCRATCH=$WORK/scratch
BIN=$REPO/target/release/tox-triage
mkdir -p "$INPUTS" "$PEERS" "$SCRATCH"

die() { echo "run.sh: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is required"
command -v python3 >/dev/null || die "python3 is required"
for s in "${SIZES[@]}"; do
  case $s in ''|*[!0-9.]*) die "bad size '$s' (MB, a number)";; esac
done

# Nanosecond clock: bash 5's $EPOCHREALTIME (no fork), else date(1).
if [ -n "${EPOCHREALTIME:-}" ]; then
  now_ns() { local t=${EPOCHREALTIME/[.,]/}; echo "${t}000"; }
else
  now_ns() { date +%s%N; }
fi

# ---------------------------------------------------------------- machine
echo "# tox-triage benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), RAM $((MEM_TOTAL_KB / 1024)) MB, $(uname -sr)"
echo "limits:  ${TIME_LIMIT} s and ${MEM_LIMIT_MB} MB address space per run; best of ${RUNS} runs (7 when < 0.5 s, 1 when >= 10 s), the tools of a table in rounds"
echo "MB = 1,048,576 bytes; work dir $WORK"

# ---------------------------------------------------------------- build
echo
echo "building release binary..."
(cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed"
[ -x "$BIN" ] || die "no binary at $BIN"

# ---------------------------------------------------------------- peers
PY=$PEERS/venv/bin/python
NODE_MODULES=$PEERS/node/node_modules
PY_PEERS_OK=0
NODE_PEERS_OK=0
if [ "$WITH_PEERS" = 1 ]; then
  if [ ! -f "$PEERS/venv/.ok" ]; then
    echo "installing Python peers (junitparser, lxml) into $PEERS/venv..."
    rm -rf "$PEERS/venv"
    if python3 -m venv "$PEERS/venv" >"$PEERS/venv.log" 2>&1 &&
       "$PEERS/venv/bin/pip" install -q junitparser lxml >>"$PEERS/venv.log" 2>&1; then
      touch "$PEERS/venv/.ok"
    else
      echo "  Python peers unavailable (see $PEERS/venv.log)"
    fi
  fi
  [ -f "$PEERS/venv/.ok" ] && PY_PEERS_OK=1
  if [ ! -f "$PEERS/node/.ok" ]; then
    echo "installing Node peers (xml2js, fast-xml-parser) into $PEERS/node..."
    if command -v npm >/dev/null && mkdir -p "$PEERS/node" &&
       npm install --silent --no-audit --no-fund --prefix "$PEERS/node" xml2js fast-xml-parser >"$PEERS/npm.log" 2>&1; then
      touch "$PEERS/node/.ok"
    else
      echo "  Node peers unavailable (see $PEERS/npm.log)"
    fi
  fi
  [ -f "$PEERS/node/.ok" ] && command -v node >/dev/null && NODE_PEERS_OK=1
fi

# ---------------------------------------------------------------- versions
echo
echo "tools: $("$BIN" --version 2>&1 | head -1); python3 $(python3 -c 'import platform; print(platform.python_version())')$(
  [ $PY_PEERS_OK = 1 ] && "$PY" -c 'import importlib.metadata as m; print(", junitparser", m.version("junitparser") + ", lxml", m.version("lxml"), end="")')$(
  [ $NODE_PEERS_OK = 1 ] && printf ', node %s, xml2js %s, fast-xml-parser %s' "$(node --version)" \
    "$(node -p "require('$NODE_MODULES/xml2js/package.json').version")" \
    "$(node -p "require('$NODE_MODULES/fast-xml-parser/package.json').version")")"

# ---------------------------------------------------------------- start-up, size
BIN_BYTES=$(stat -c %s "$BIN")
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 10 --runs 100 --export-json "$SCRATCH/hf.json" "$BIN --version" >/dev/null 2>&1
  STARTUP=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.2f ms mean ± %.2f (hyperfine, 100 runs)" % (r["mean"]*1e3, r["stddev"]*1e3))' "$SCRATCH/hf.json")
else
  for _ in 1 2 3 4 5; do "$BIN" --version >/dev/null; done
  t0=$(now_ns)
  for _ in $(seq 100); do "$BIN" --version >/dev/null; done
  t1=$(now_ns)
  STARTUP=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f ms per run (loop of 100 runs incl. fork/exec; no hyperfine)", d / 100 / 1e6 }')
fi
echo "tox-triage --version start-up: $STARTUP"
echo "release binary: $BIN_BYTES bytes ($(awk -v b="$BIN_BYTES" 'BEGIN { printf "%.2f", b / 1048576 }') MB)"

# ---------------------------------------------------------------- inputs
# A generator's key covers the module it shares with the other one.
gen_key() { cat "$1" "$BENCH_DIR/genlib.py" | md5sum | cut -c1-8; }
JKEY=$(gen_key "$BENCH_DIR/gen_junit.py")
LKEY=$(gen_key "$BENCH_DIR/gen_toxlog.py")

# ensure_input OUT_FILE GENERATOR SIZE [FLAGS...]: generate OUT_FILE (+ .json counts) unless present.
ensure_input() {
  local out=$1 gen=$2 size=$3; shift 3
  if [ -s "$out" ] && [ -s "$out.json" ]; then return 0; fi
  echo "generating $(basename "$out")..." >&2
  python3 "$BENCH_DIR/$gen" "$size" "$out.tmp" "$@" >"$out.json.tmp" || die "$gen failed"
  mv "$out.tmp" "$out" && mv "$out.json.tmp" "$out.json"
}

# ---------------------------------------------------------------- measuring
# Wall time comes from a nanosecond clock around the run (GNU time's %e has
# only 10 ms resolution), minus the harness overhead measured with `true`;
# peak RSS is GNU time's %M (the max RSS of the measured process tree's
# largest process).
run_once() {  # run_once STDOUT_FILE CMD... ; sets R_WALL_NS R_RSS_KB R_RC
  local stdout=$1; shift
  local t0 t1
  t0=${EPOCHREALTIME:-}; if [ -n "$t0" ]; then t0=${t0/[.,]/}000; else t0=$(now_ns); fi
  (
    # V8 reserves far more address space than it uses and can hang under a
    # small ulimit -v, so Node runs keep V8's own default heap limit instead
    # (the limit the JUnit GitHub actions run with).
    [ "${NO_VLIMIT:-0}" = 1 ] || ulimit -v $((MEM_LIMIT_MB * 1024)) 2>/dev/null
    exec /usr/bin/time -f '%e %M' -o "$SCRATCH/time.out" timeout --foreground -k 5 "$TIME_LIMIT" "$@"
  ) >"$stdout" 2>"$SCRATCH/stderr"
  R_RC=$?
  t1=${EPOCHREALTIME:-}; if [ -n "$t1" ]; then t1=${t1/[.,]/}000; else t1=$(now_ns); fi
  R_WALL_NS=$((t1 - t0))
  R_RSS_KB=$(tail -n 1 "$SCRATCH/time.out" | awk '{print $2}')
  [ -n "$R_RSS_KB" ] || R_RSS_KB=0
}

OVERHEAD_NS=0
calibrate() {
  local best=999999999999 i
  for i in $(seq 15); do
    run_once /dev/null true
    [ "$R_WALL_NS" -lt "$best" ] && best=$R_WALL_NS
  done
  OVERHEAD_NS=$best
}

# Table rows accumulate in ROWS (tab-separated); notes in NOTES.
ROWS=""
NOTES=""
TT_WALL_NS=0

# tool NAME FILE CHECK STDOUT CMD...: adds a row to the table being made;
# print_table runs them all (see run_table).
#   CHECK: "-" (no check), or "counts:EXPECTED_JSON" (stdout must be a JSON
#   object whose keys agree with EXPECTED_JSON's).
#   STDOUT: where the tool's stdout goes (/dev/null for cat).
#   NO_VLIMIT=1 before it: run without the address-space limit (Node).
T_NAME=(); T_FILE=(); T_CHECK=(); T_OUT=(); T_NOV=(); T_CMD=()
tool() {
  T_NAME+=("$1"); T_FILE+=("$2"); T_CHECK+=("$3"); T_OUT+=("$4"); T_NOV+=("${NO_VLIMIT:-0}")
  shift 4
  T_CMD+=("$(printf '%q ' "$@")")
}

# run_table: runs the table's tools in rounds, one run of each tool per
# round, so that every tool is timed in the same minutes: this VM's speed
# drifts, and a peer timed minutes after tox-triage may meet another speed.
# Each tool keeps its best run: of 3 (7 when a run takes under 0.5 s, 1
# when it takes 10 s or more, or fails).
# The input (and tox-triage's binary) is read into the page cache again,
# untimed, before every run: this VM's host takes page cache back at
# several MB a second however much memory is free (6 MB/s with 23 GB
# free, 2026-12-02), so a file read before a peer that runs for a minute
# is partly on disk again by the next run.
run_table() {
  local n=${#T_NAME[@]} i round=0 active NO_VLIMIT
  local -a best rss status runs out
  for ((i = 0; i < n; i++)); do
    best[i]=-1; rss[i]=0; status[i]=ok; runs[i]=$RUNS; out[i]=$SCRATCH/out.$i
    [ "${T_OUT[i]}" = - ] || out[i]=${T_OUT[i]}
  done
  while :; do
    round=$((round + 1)); active=0
    for ((i = 0; i < n; i++)); do
      [ "$round" -le "${runs[i]}" ] || continue
      active=1
      NO_VLIMIT=${T_NOV[i]}
      warm "${T_FILE[i]}" "$BIN"
      eval "run_once \"\${out[i]}\" ${T_CMD[i]}"
      # Sub-second runs are noisy: take the best of more of them.
      [ "$round" -eq 1 ] && [ "$R_WALL_NS" -lt 500000000 ] && [ "${runs[i]}" -lt 7 ] && runs[i]=7
      [ "$R_RSS_KB" -gt "${rss[i]}" ] && rss[i]=$R_RSS_KB
      if [ "$R_RC" -ne 0 ]; then
        if [ "$R_RC" -eq 124 ] || [ "$R_RC" -eq 137 ] && [ "$R_WALL_NS" -ge $((TIME_LIMIT * 1000000000)) ]; then
          status[i]="timeout >${TIME_LIMIT}s"
        elif grep -qiE 'out of memory|MemoryError|Memory allocation failed|Cannot allocate|ENOMEM|ERR_STRING_TOO_LONG|Cannot create a string longer|Array buffer allocation failed|std::bad_alloc' "$SCRATCH/stderr"; then
          status[i]="oom/too big (rc=$R_RC)"
        else
          status[i]="crash (rc=$R_RC)"
        fi
        NOTES+="  ${T_NAME[i]}: ${status[i]}: $(grep -v '^\s*$' "$SCRATCH/stderr" | grep -v '^Command ' | tail -n 2 | cut -c1-160 | tr '\n' ' ')"$'\n'
        best[i]=$R_WALL_NS
        runs[i]=$round
        continue
      fi
      if [ "${best[i]}" -lt 0 ] || [ "$R_WALL_NS" -lt "${best[i]}" ]; then best[i]=$R_WALL_NS; fi
      [ "$R_WALL_NS" -ge 10000000000 ] && runs[i]=$round
    done
    [ "$active" = 1 ] || break
  done
  for ((i = 0; i < n; i++)); do
    local check=${T_CHECK[i]} name=${T_NAME[i]}
    if [ "${status[i]}" = ok ] && [ "${check%%:*}" = counts ]; then
      local verdict
      verdict=$(python3 "$BENCH_DIR/check_counts.py" peer "${check#counts:}" "${out[i]}")
      if [ "$verdict" != ok ]; then status[i]="wrong counts"; NOTES+="  $name: $verdict"$'\n'; fi
    fi
    local wall_ns=$((best[i] - OVERHEAD_NS))
    [ "$wall_ns" -lt 100000 ] && wall_ns=100000   # below the clock's noise: shown as <0.001
    [ "$name" = tox-triage ] && TT_WALL_NS=$wall_ns
    ROWS+="$name"$'\t'"$(stat -c %s "${T_FILE[i]}")"$'\t'"$wall_ns"$'\t'"${rss[i]}"$'\t'"${status[i]}"$'\n'
  done
  T_NAME=(); T_FILE=(); T_CHECK=(); T_OUT=(); T_NOV=(); T_CMD=()
}

print_table() {  # print_table TITLE: runs the table's tools, then prints it
  run_table
  echo
  echo "## $1"
  printf '%s' "$ROWS" | awk -F'\t' -v tt="$TT_WALL_NS" '
    BEGIN {
      printf "| %-26s | %8s | %8s | %9s | %11s | %12s | %-18s |\n", "tool", "file MB", "wall s", "MB/s", "peak RSS MB", "x tox-triage", "status"
      printf "|%s|%s|%s|%s|%s|%s|%s|\n", "----------------------------", "---------:", "---------:", "----------:", "------------:", "-------------:", "--------------------"
    }
    {
      mb = $2 / 1048576; wall = $3 / 1e9; rss = $4 / 1024
      ok = ($5 == "ok" || $5 == "wrong counts")
      tiny = (wall < 0.001)
      if (tiny) wall = 0.001
      rate = ok ? sprintf("%s%.0f", tiny ? ">" : "", mb / wall) : "-"
      if (ok && !tiny && mb / wall < 1000) rate = sprintf("%.1f", mb / wall)
      ratio = (ok && tt > 0) ? sprintf("%s%.2f", tiny ? "<" : "", wall * 1e9 / tt) : "-"
      wall_s = tiny ? "<0.001" : sprintf("%.3f", wall)
      printf "| %-26s | %8.1f | %8s | %9s | %11.1f | %12s | %-18s |\n", $1, mb, wall_s, rate, rss, ratio, $5
    }'
  if [ -n "$NOTES" ]; then printf 'notes:\n%s' "$NOTES"; fi
  ROWS=""; NOTES=""; TT_WALL_NS=0
}

# tox_triage_check KIND FILE EXPECTED_JSON: untimed run with --json (also warms up); appends a note.
tox_triage_check() {
  local kind=$1 file=$2 expected=$3 verdict
  if timeout --foreground -k 5 "$TIME_LIMIT" "$BIN" analyze "--$kind" "$file" --json "$SCRATCH/report.json" >/dev/null 2>"$SCRATCH/tt.stderr"; then
    verdict=$(python3 "$BENCH_DIR/check_counts.py" "$kind" "$expected" "$SCRATCH/report.json")
  else
    verdict="tox-triage failed: $(tail -n 1 "$SCRATCH/tt.stderr")"
  fi
  NOTES+="  tox-triage --json vs generator: $verdict"$'\n'
}

warm() { cat "$@" >/dev/null; }

calibrate
echo "harness overhead (subtracted from wall times): $(awk -v n="$OVERHEAD_NS" 'BEGIN { printf "%.1f ms", n / 1e6 }')"

for size in "${SIZES[@]}"; do
  # ------------------------------------------------------------ JUnit
  J=$INPUTS/bench-junit-${size}MB-$JKEY.xml
  ensure_input "$J" gen_junit.py "$size"
  warm "$J" "$BIN"
  tox_triage_check junit "$J" "$J.json"
  tool tox-triage "$J" - - "$BIN" analyze --junit "$J"
  if [ $PY_PEERS_OK = 1 ]; then
    warm "$PY"
    tool "junitparser (py)" "$J" "counts:$J.json" - "$PY" "$BENCH_DIR/peers/junitparser_count.py" "$J"
    tool "lxml iterparse (py)" "$J" "counts:$J.json" - "$PY" "$BENCH_DIR/peers/lxml_iterparse_count.py" "$J"
  fi
  if [ $NODE_PEERS_OK = 1 ]; then
    NO_VLIMIT=1 tool "xml2js (node)" "$J" "counts:$J.json" - env NODE_PATH="$NODE_MODULES" node "$BENCH_DIR/peers/xml2js_count.js" "$J"
    NO_VLIMIT=1 tool "fast-xml-parser (node)" "$J" "counts:$J.json" - env NODE_PATH="$NODE_MODULES" node "$BENCH_DIR/peers/fxp_count.js" "$J"
  fi
  tool "floor: cat > /dev/null" "$J" - /dev/null cat "$J"
  tool "floor: wc -l" "$J" - - wc -l "$J"
  tool "floor: grep -c '<testcase'" "$J" - - grep -c '<testcase' "$J"
  print_table "JUnit XML, ${size} MB: $(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print("%(suites)d suites, %(testcases)d testcases, %(failures)d failures, %(errors)d errors, %(skipped)d skipped" % c)' "$J.json") ($(basename "$J"))"

  # ------------------------------------------------------------ tox logs
  [ "$WITH_LOGS" = 1 ] || continue
  for variant in plain ansi github matrix; do
    L=$INPUTS/bench-toxlog-${size}MB-$variant-$LKEY.log
    case $variant in
      plain) ensure_input "$L" gen_toxlog.py "$size" ;;
      ansi) ensure_input "$L" gen_toxlog.py "$size" --ansi ;;
      github) ensure_input "$L" gen_toxlog.py "$size" --github ;;
      # sentry-python's matrix (about 840 targets), run again and again.
      matrix) ensure_input "$L" gen_toxlog.py "$size" --matrix 840 ;;
    esac
    warm "$L"
    tox_triage_check log "$L" "$L.json"
    tool tox-triage "$L" - - "$BIN" analyze --log "$L"
    tool "floor: grep -c FAIL" "$L" - - grep -c FAIL "$L"
    tool "floor: wc -l" "$L" - - wc -l "$L"
    tool "floor: cat > /dev/null" "$L" - /dev/null cat "$L"
    print_table "tox log ($variant), ${size} MB: $(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print("%(envs)d envs, %(failed)d failed, %(passed)d passed, %(skipped)d skipped, %(lines)d lines" % c + (", %(occurrences)d env runs in %(runs)d tox runs" % c if c.get("matrix") else ""))' "$L.json") ($(basename "$L"))"
  done
done
