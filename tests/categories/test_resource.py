"""resource: memory, disk space, a process killed by signal 9."""

import resource
import subprocess
import sys


def _vm_size_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def test_resource_memory_error():
    # A real failed allocation: cap this process's address space a little above
    # what it uses now, ask for 2 GiB more, and put the limit back afterwards.
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_vm_size_bytes() + 256 * 1024**2, hard))
    try:
        buffer = bytearray(2 * 1024**3)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert len(buffer) == 2 * 1024**3


def test_resource_no_space_left_on_device():
    # /dev/full: every write fails with ENOSPC, as on a full disk.
    with open("/dev/full", "wb") as f:
        f.write(b"report line\n" * 1024)
        f.flush()


def test_resource_subprocess_killed_by_sigkill():
    # A child process (a build step, a server under test) killed by signal 9, as the
    # OOM killer does. The pytest process itself survives: see test_crash.py for a
    # pytest-xdist worker killed the same way.
    child = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    subprocess.run([sys.executable, "-c", child], check=True)
