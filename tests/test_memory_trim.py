"""When server/memory_trim.py's Trimmer trims: once big responses have been quiet a while, at the latest a bound
after the first, one more for a response that ends during a trim, never two at once. The trim here records
when it ran instead of calling malloc_trim (tests/test_memory_release.py trims for real)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from server.memory_trim import Trimmer


class Trims:
    def __init__(self) -> None:
        self.at: list[float] = []  # time.monotonic() of each trim
        self.running = 0
        self.most_at_once = 0
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> bool:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.release.wait(10)
        self.at.append(time.monotonic())
        self.running -= 1
        return True


async def until(condition: Callable[[], object], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the trim did not come"
        await asyncio.sleep(0.005)


async def test_a_burst_of_big_responses_is_trimmed_once_after_its_last() -> None:
    trims = Trims()
    trimmer = Trimmer(trims, quiet=0.2, longest=30)
    for _ in range(10):  # a walk's pages, one right after the other
        trimmer.request()
        await asyncio.sleep(0)
    last = time.monotonic()
    await until(lambda: trims.at)
    assert len(trims.at) == 1 and trims.at[0] >= last + 0.2 - 0.01 and trimmer.trims == 1
    trimmer.request()  # a later big response: its own trim
    await until(lambda: len(trims.at) == 2)
    await trimmer.close()


async def test_a_trim_comes_at_the_latest_a_bound_after_the_first_response_it_follows() -> None:
    trims = Trims()
    trimmer = Trimmer(trims, quiet=30, longest=0.1)  # responses that never stop: the bound trims anyway
    first = time.monotonic()
    trimmer.request()
    await until(lambda: trims.at)
    assert first + 0.1 - 0.01 <= trims.at[0] < first + 30
    await trimmer.close()


async def test_a_response_ending_during_a_trim_asks_for_one_more_never_two_at_once() -> None:
    trims = Trims()
    trims.release.clear()
    trimmer = Trimmer(trims, quiet=0, longest=0)
    trimmer.request()
    await until(lambda: trims.running == 1)
    trimmer.request()
    trimmer.request()
    trims.release.set()
    await until(lambda: len(trims.at) == 2)
    assert trims.most_at_once == 1 and trimmer.trims == 2
    await trimmer.close()


def _waiting_trims() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "malloc-trim" and not t.done()]


async def test_closing_drops_a_trim_waiting_for_quiet() -> None:
    trims = Trims()
    trimmer = Trimmer(trims, quiet=30, longest=30)
    trimmer.request()
    assert len(_waiting_trims()) == 1
    await trimmer.close()
    assert _waiting_trims() == [] and trims.at == [] and trimmer.trims == 0
    trimmer.request()  # a response ending after close starts nothing
    assert _waiting_trims() == []
