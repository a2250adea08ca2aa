"""timeout: pytest-timeout's own timeout, and asyncio's."""

import asyncio
import threading

import pytest


@pytest.mark.timeout(1)  # pytest-timeout's default method on Linux: signal
def test_timeout_pytest_timeout():
    # The test waits on a worker thread that waits for a reply that never comes.
    # (With a second thread alive, pytest-timeout prints its `+++ Timeout +++`
    # banner and that thread's stack before failing the test.)
    reply = threading.Event()
    worker = threading.Thread(target=reply.wait, name="reply-waiter", daemon=True)
    worker.start()
    try:
        worker.join()
    finally:
        reply.set()
        worker.join()


async def _slow_query():
    await asyncio.sleep(10)
    return 42


@pytest.mark.asyncio
async def test_timeout_asyncio_wait_for():
    result = await asyncio.wait_for(_slow_query(), timeout=0.1)
    assert result == 42
