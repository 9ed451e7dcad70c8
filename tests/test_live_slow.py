"""Subscribers that stop reading, against `tracehouse serve` as a real process: each is cut off with
SLOW_CONSUMER once what the server holds for it passes TRACEHOUSE_SUBSCRIBER_QUEUE_BYTES, or once its socket
takes nothing for a while (STALL_SECONDS); a subscriber that keeps reading gets everything in order, and the
server's memory stays bounded by that limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from server.shared_streams import STALL_SECONDS
from tests.process import ServerProcess
from tests.ws_client import GraphQLWS, StalledSubscriber

KEY = "th_live_slow_key"
QUEUE_BYTES = 1 << 20
STALLED_SHARED, STALLED_OWN = 5, 10  # on the reader's own stream, and each on a stream of its own
EVENTS, BATCH, BLOB = 4_000, 500, "x" * 8_000  # ~32 MB of messages per subscriber: 32 times its byte limit


def document(alias: str = "events", names: str = '"slow.tick"') -> str:
    return f"subscription {{ {alias}: events(filter: {{names: [{names}]}}) {{ name payload }} }}"


def ticks(name: str, start: int, n: int) -> list[dict[str, Any]]:
    return [{"eventType": name, "payload": {"n": start + i, "b": BLOB}} for i in range(n)]


def kernel_send_buffer_max() -> int:
    """The most the kernel buffers for one TCP socket's sends (Linux autotunes up to tcp_wmem's maximum)."""
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 4 << 20


def verdict(messages: list[dict[str, Any]], ended: bool) -> tuple[str, int]:
    """How a stalled subscriber's operation ended once it read again, and how many updates it got first."""
    updates = [m for m in messages if m["type"] == "next" and "errors" not in m["payload"]]
    errors = [e for m in messages if m["type"] in ("next", "error")
              for e in (m["payload"] if m["type"] == "error" else m["payload"].get("errors", []))]  # fmt: skip
    if errors:
        return errors[0].get("extensions", {}).get("code", "?"), len(updates)
    if not ended:
        return "still open", len(updates)
    return ("closed" if not messages or messages[-1]["type"] != "complete" else "completed"), len(updates)

METRICS_TOKEN = "th_live_slow_metrics"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ServerProcess]:
    env = {
        "TRACEHOUSE_DATABASE_URL": database_url,
        "TRACEHOUSE_SUBSCRIBER_QUEUE_BYTES": str(QUEUE_BYTES),
        "TRACEHOUSE_SUBSCRIBER_QUEUE_SIZE": "100000",  # the message count never binds here: bytes must
        "TRACEHOUSE_RATE_LIMIT_PER_SECOND": "0",
        "TRACEHOUSE_METRICS_TOKEN": METRICS_TOKEN,
    }
    proc = ServerProcess(tmp_path_factory.mktemp("live-slow") / "a", KEY, env)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": KEY}, timeout=60) as client:
        yield client


async def post(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    response = await client.post("/api/v1/events", json=events)
    assert response.status_code == 200, response.text


async def open_subscriptions(client: httpx.AsyncClient, want: int | None = None, timeout: float = 0) -> int:  # noqa: ASYNC109
    """Live subscriptions open in the server (its /metrics gauge); polled until there are `want` of them
    or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while True:
        metrics = (await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
        gauge = next(line for line in metrics.splitlines() if line.startswith("tracehouse_open_subscriptions "))
        count = int(float(gauge.split()[1]))  # prometheus_client writes gauges as floats
        if count == want or want is None or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.1)


async def test_stalled_subscribers_are_cut_off_and_the_server_holds_a_bounded_amount_for_them(
    server: ServerProcess, client: httpx.AsyncClient
) -> None:
    stalled: list[StalledSubscriber] = []
    try:
        process = psutil.Process(server.proc.pid)  # type: ignore[union-attr]
        open_before = await open_subscriptions(client)
        reader = GraphQLWS(server.url)
        await reader.connect({"apiKey": KEY})
        await reader.subscribe(document(names='"warm.tick", "slow.tick"'))
        # registered before the first event
        assert await open_subscriptions(client, open_before + 1, timeout=10) == open_before + 1
        for start in range(0, EVENTS, BATCH):  # warm up the stores and the live path with the same load
            await post(client, ticks("warm.tick", start, BATCH))
            for _ in range(BATCH):
                await reader.data(30.0)
        for i in range(STALLED_SHARED + STALLED_OWN):
            query = document("events", '"warm.tick", "slow.tick"') if i < STALLED_SHARED else document(f"own{i}")
            stalled.append(StalledSubscriber(server.url, KEY, query))
        await post(client, ticks("slow.tick", -1, 1))  # every subscription is registered once the reader hears it
        assert (await reader.data(10.0))["events"]["payload"]["n"] == -1
        baseline = peak = process.memory_info().rss

        received: list[int] = []
        for start in range(0, EVENTS, BATCH):
            # one batch at a time: a request is acknowledged before its live message is published (ingest/
            # writer.py), so the next request's message may overtake it
            await post(client, ticks("slow.tick", start, BATCH))
            received += [(await reader.data(30.0))["events"]["payload"]["n"] for _ in range(BATCH)]
            peak = max(peak, process.memory_info().rss)
        assert received == list(range(EVENTS)), "the reader gets every update, in order"
        peak = max(peak, process.memory_info().rss)
        await reader.close()

        # what a stalled subscriber may cost: its queue, one batch in the transport, and the objects behind
        # them (a few times the encoded bytes), plus slack for the allocator and the stores
        bound = len(stalled) * 4 * (QUEUE_BYTES + (1 << 20)) + (250 << 20)
        assert peak - baseline < bound, f"server RSS grew {(peak - baseline) >> 20} MiB (bound {bound >> 20} MiB)"

        outcomes = [verdict(*await asyncio.to_thread(s.read_all, 30.0)) for s in stalled]
        assert all(how in ("SLOW_CONSUMER", "closed") for how, _ in outcomes), outcomes
        # before the reason, a stalled subscriber reads only what the socket buffers held when it was cut: the
        # server dropped what it had queued for it
        held = QUEUE_BYTES + kernel_send_buffer_max() + (1 << 20)
        assert all(updates * len(BLOB) < held for _, updates in outcomes), (held, outcomes)
    finally:
        for s in stalled:
            s.close()


async def test_a_stalled_subscriber_of_a_stream_that_waits_for_it_is_cut_off_after_a_while(
    server: ServerProcess, client: httpx.AsyncClient
) -> None:
    """A resumed stream goes at its client's pace instead of cutting it off for a full queue; a client that
    stopped reading altogether still must not hold the stream, its bus subscription and its buffers forever."""
    query = """subscription($after: String) {
      events(filter: {names: ["stall.tick"]}, after: $after) { payload cursor } }"""
    before = await open_subscriptions(client, 0, timeout=10)  # the previous test's clients are gone
    stalled = StalledSubscriber(server.url, KEY, query, {"after": None})  # `after`: a stream of its own
    try:
        assert await open_subscriptions(client, before + 1, timeout=10) == before + 1
        for start in range(0, 1_500, BATCH):  # ~12 MB: more than the socket buffers and the queue hold
            await post(client, ticks("stall.tick", start, BATCH))
        ended = await open_subscriptions(client, before, timeout=STALL_SECONDS + 30)
        assert ended == before, "the stalled subscriber's stream still runs"
        how, updates = verdict(*await asyncio.to_thread(stalled.read_all, 30.0))
        assert how == "SLOW_CONSUMER" and updates < 1_500, (how, updates)
    finally:
        stalled.close()
