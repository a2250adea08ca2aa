"""resource (SIGKILL) and worker-crash rows: run only under pytest-xdist (-n 2).

Both tests end their own process, so outside an xdist worker they skip
rather than take the whole pytest run down.
"""

import os
import signal

import pytest

pytestmark = pytest.mark.skipif(
    "PYTEST_XDIST_WORKER" not in os.environ,
    reason="kills its own process: run with -n 2 (see regenerate.sh)",
)


def test_resource_killed_by_sigkill():
    # What the kernel's OOM killer (or a CI runner's watchdog) does: signal 9.
    os.kill(os.getpid(), signal.SIGKILL)


def test_worker_crash_os_exit():
    # A C extension or a stray sys.exit path in a worker: the process just ends.
    os._exit(3)


def test_worker_survivor_passes():
    assert 1 + 1 == 2
