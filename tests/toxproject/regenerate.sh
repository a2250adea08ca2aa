#!/usr/bin/env bash
# Regenerates tests/fixtures/tox*/ from real tox runs of this project.
#
#   tests/toxproject/regenerate.sh            # needs network (PyPI) and python3.11 + python3.12
#
# The project is copied to a runner-like path (/home/runner/work/toxproject/toxproject
# unless TOXPROJECT_WORKDIR says otherwise) so that the captured logs carry the same
# absolute paths a GitHub-hosted runner would print. tox 4 and tox 3 are installed
# with pip into throwaway venvs. See tests/fixtures/SOURCES.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$(cd "$here/../fixtures" && pwd)
work=${TOXPROJECT_WORKDIR:-/home/runner/work/toxproject/toxproject}
venvs=$(mktemp -d)
trap 'rm -rf "$venvs"' EXIT

for v in 3.11 3.12; do
  command -v "python$v" >/dev/null || { echo "python$v is not on PATH (try: export PATH=\$(pyenv root)/versions/$v.*/bin:\$PATH)" >&2; exit 1; }
done
python3 -m venv "$venvs/tox4" && "$venvs/tox4/bin/pip" install -q 'tox==4.*'
python3 -m venv "$venvs/tox3" && "$venvs/tox3/bin/pip" install -q 'tox==3.28.0'

fresh_project() {
  rm -rf "$work" && mkdir -p "$work"
  cp -r "$here/tox.ini" "$here/tests" "$work/"
}

# capture NAME TOX_VENV TOX_ARGS...: runs tox, keeps its combined output as it was printed.
capture() {
  local name=$1 venv=$2; shift 2
  local out="$fixtures/$name"
  fresh_project
  rm -rf "$out" && mkdir -p "$out"
  (cd "$work" && "$venvs/$venv/bin/tox" "$@" >"$out/tox.log" 2>&1) || echo "$name: tox exited $?" >"$out/tox.exit"
  if [ -d "$work/junit" ]; then cp -r "$work/junit" "$out/junit"; fi
  if [ -f "$work/result.json" ]; then cp "$work/result.json" "$out/result.json"; fi
}

capture tox4-sequential    tox4 --result-json result.json
capture tox4-parallel      tox4 -p auto --result-json result.json
capture tox4-parallel-live tox4 -p auto -o --result-json result.json
capture tox4-colored       tox4 --colored yes -e py3.11-common,py3.12-markupsafe-v2.1.5,py3.12-brokendeps,py3.99-common
capture tox3               tox3
# Two matrix jobs' worth of output for the API-mode tests: one whose failures
# are all flakes (a refused connection on 3.11, a crashed xdist worker on 3.12),
# one whose new markupsafe release fails on both Pythons.
capture tox4-job-flakes     tox4 -p auto -o -e py3.11-netflake,py3.12-netflake,py3.11-xdist-v3.6.1,py3.12-xdist-v3.6.1
capture tox4-job-regression tox4 -p auto -o -e py3.11-markupsafe-v2.1.5,py3.12-markupsafe-v2.1.5,py3.11-markupsafe-v2.0.1

# A GitHub job log: the real parallel-live output framed the way the Actions log
# endpoint returns it (BOM, per-line timestamps, ##[group] and ##[error] lines).
python3 "$here/frame_as_github_log.py" "$fixtures/tox4-parallel-live/tox.log" >"$fixtures/github-job/job.log"

# The same job cancelled a third of the way through (as a timeout does): envs
# named by the -e list that never reported are not-run.
lines=$(wc -l <"$fixtures/tox4-parallel-live/tox.log")
python3 "$here/frame_as_github_log.py" "$fixtures/tox4-parallel-live/tox.log" $((lines / 3)) >"$fixtures/github-job/job-cancelled.log"
for job in flakes regression; do
  python3 "$here/frame_as_github_log.py" "$fixtures/tox4-job-$job/tox.log" >"$fixtures/github-job/job-$job.log"
done
echo "fixtures regenerated under $fixtures"
