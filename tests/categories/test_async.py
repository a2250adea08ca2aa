"""async: event loop misuse."""

import asyncio
import gc

import pytest


async def _fetch_items():
    await asyncio.sleep(0)
    return ["a", "b"]


def test_async_event_loop_closed():
    loop = asyncio.new_event_loop()
    loop.close()
    coro = _fetch_items()
    try:
        # A loop kept from an earlier test (or a client bound to it) used after close.
        items = loop.run_until_complete(coro)
    finally:
        coro.close()
    assert items == ["a", "b"]


# As `-W error::RuntimeWarning`: the warning is raised inside the coroutine's
# finalizer, where Python can only report it as unraisable; pytest turns that
# into PytestUnraisableExceptionWarning, made an error here too.
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_async_coroutine_never_awaited():
    # Forgot the `await`: the coroutine object is dropped without ever running.
    _fetch_items()
    gc.collect()
