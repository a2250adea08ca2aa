import os

import pytest


@pytest.mark.parametrize("n", range(4))
def test_work(n):
    assert n >= 0


def test_worker_dies():
    if os.environ.get("TT_CRASH_WORKER"):
        os._exit(3)
