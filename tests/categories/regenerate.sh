#!/usr/bin/env bash
# Regenerates tests/fixtures/categories/ from real pytest runs of this project:
# one failing test per failure category that tox-triage classifies.
#
#   tests/categories/regenerate.sh        # needs PyPI and python3.12 (PATH or pyenv)
#
# pytest and the plugins and libraries the tests use are installed with pip into
# a throwaway venv in a temp dir. The project is copied to a runner-like path
# (/home/runner/work/categories/categories unless CATEGORIES_WORKDIR says
# otherwise), as tests/toxproject/regenerate.sh does, so the captured output
# carries the paths a GitHub-hosted runner would print. All network tests talk
# to servers on 127.0.0.1, except the DNS row, which asks the machine's resolver
# for `nonexistent.invalid` (RFC 6761: never resolves).
# See tests/fixtures/categories/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$(cd "$here/../fixtures" && pwd)/categories
work=${CATEGORIES_WORKDIR:-/home/runner/work/categories/categories}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python=python3.12
# A pyenv shim answers `command -v` even when that version is not selected: run it.
if ! "$python" -c 'import sys' >/dev/null 2>&1; then
  dir=$(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.12.*/bin 2>/dev/null | tail -n 1 || true)
  [ -n "$dir" ] || { echo "python3.12 not found (PATH or pyenv)" >&2; exit 1; }
  python=$dir/python3.12
fi
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet \
  pytest==9.2.0 pytest-timeout==2.4.0 pytest-xdist==3.8.0 pytest-asyncio==1.5.0 \
  requests==2.34.2 httpx==0.28.1
py=$tmp/venv/bin/python

rm -rf "$work" && mkdir -p "$work"
cp "$here"/pytest.ini "$here"/conftest.py "$here"/shop.py "$here"/test_*.py "$work/"

# Same terminal width and no inherited pytest options, whoever runs this.
export COLUMNS=80 PYTHONDONTWRITEBYTECODE=1
unset PYTEST_ADDOPTS PYTEST_PLUGINS PYTEST_XDIST_WORKER || true

# capture NAME SUITE PYTEST_ARGS...: runs pytest in the project copy and keeps its
# combined output (output.txt), its JUnit XML (junit.xml) and its exit status (exit).
capture() {
  local name=$1 suite=$2; shift 2
  local out="$fixtures/$name"
  rm -rf "$out" && mkdir -p "$out"
  local rc=0
  rm -f "$work/junit.xml"
  (cd "$work" && "$py" -m pytest -rfE -p no:cacheprovider "$@" \
      --junitxml=junit.xml -o junit_suite_name="$suite" >"$out/output.txt" 2>&1) || rc=$?
  echo "$rc" >"$out/exit"
  if [ -f "$work/junit.xml" ]; then mv "$work/junit.xml" "$out/junit.xml"; fi
  echo "$name: pytest exited $rc"
}

# The whole project (test_crash.py's tests skip outside an xdist worker).
capture main py3.12-categories
# The worker-crash rows: pytest-xdist with two workers.
capture xdist py3.12-categories-xdist -n 2 test_crash.py
# A test path that does not exist (pytest exit 4).
capture missing-path py3.12-categories-missing test_filesystem_added_later.py
# The order-or-state row's test alone: it passes.
capture order-alone py3.12-categories-order-alone test_order_state.py::test_order_state_default_currency

rm -rf "$work"

# Every row's evidence must really be in what was captured (the README quotes
# these lines whole; ports, temp paths and addresses vary between captures, so
# those lines are checked up to where they start to vary).
failed=0
check() {  # check CAPTURE TEXT: TEXT occurs in CAPTURE/output.txt
  grep -qF -- "$2" "$fixtures/$1/output.txt" || { echo "missing in $1/output.txt: $2" >&2; failed=1; }
}
check main "E               ConnectionRefusedError: [Errno 111] Connection refused"
check main "E               ConnectionResetError: [Errno 104] Connection reset by peer"
check main "E       socket.gaierror: [Errno -2] Name or service not known"
check main "E           ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number"
check main "E           requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: http://127.0.0.1:"
check main "E           httpx.ConnectTimeout: timed out"
check main "+++++++++++++++++++++++++++++++++++ Timeout ++++++++++++++++++++++++++++++++++++"
check main "E           Failed: Timeout (>1.0s) from pytest-timeout."
check main "E               TimeoutError"
check main "E           MemoryError"
check main "E           OSError: [Errno 28] No space left on device"
check main "died with <Signals.SIGKILL: 9>."
check xdist "crashed while running 'test_crash.py::test_resource_killed_by_sigkill'"
check main "E       FileNotFoundError: [Errno 2] No such file or directory: "
check missing-path "ERROR: file or directory not found: test_filesystem_added_later.py"
check xdist "crashed while running 'test_crash.py::test_worker_crash_os_exit'"
check xdist "node down: Not properly terminated"
check main "E       ImportError: cannot import name 'does_not_exist' from 'requests' ("
check main "E       ModuleNotFoundError: No module named 'yaml'"
check main "E       AttributeError: 'str' object has no attribute 'url'"
check main "/site-packages/requests/utils.py:927: AttributeError"
check main "E       TypeError: Unexpected type for 'content', <class 'int'>"
check main "/site-packages/httpx/_content.py:133: TypeError"
check main "E       DeprecationWarning: datetime.datetime.utcnow() is deprecated"
check main "E           RuntimeError: Event loop is closed"
check main "E       RuntimeWarning: coroutine '_fetch_items' was never awaited"
check main "E                   pytest.PytestUnraisableExceptionWarning: Exception ignored in: <coroutine object _fetch_items at "
check main "E           sqlite3.OperationalError: database is locked"
check main "E           sqlite3.IntegrityError: UNIQUE constraint failed: users.email"
check main "E        +  where False = license_valid(datetime.datetime("
check main "E       assert [13, 30, 26] == [7, 23, 41]"
check main "E       assert 850 == 849"
check main "E       AssertionError: assert '5.00 USD' == '5.00 EUR'"
check order-alone "test_order_state.py .  "
check order-alone "1 passed in"
grep -qx 4 "$fixtures/missing-path/exit" || { echo "missing-path: expected exit 4" >&2; failed=1; }
[ "$failed" = 0 ] || { echo "some rows are not in the captured output" >&2; exit 1; }
echo "fixtures regenerated under $fixtures"
