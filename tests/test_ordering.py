"""orderBy and both paging directions: every order of every list, paged through forward and backward in
small pages, equals a Python sort of the same rows (ties broken by id); cursors are bound to their order."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from tests.conftest import Tenant
from tests.traces import INGEST, LOG_SPANS, T0

Fetch = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def _span(ex: str, sid: str, name: str, start: datetime, seconds: float | None, tokens: int) -> dict[str, Any]:
    span: dict[str, Any] = {"id": sid, "executionId": ex, "name": name, "kind": "chain", "startTime": start.isoformat()}
    if seconds is not None:
        span["endTime"] = (start + timedelta(seconds=seconds)).isoformat()
    if tokens:
        span["usage"] = {"model": "m", "inputTokens": tokens, "outputTokens": 1}
    return span


async def _seed(tenant: Tenant) -> None:
    """Executions and spans with ties on every sort field (same start, name, duration, tokens) and running ones."""
    rnd = random.Random(7)
    spans = []
    for i in range(13):
        ex = f"x-{i:02d}"
        start = T0 + timedelta(seconds=rnd.choice([0, 0, 1, 2]))
        duration = rnd.choice([None, 1.0, 1.0, 2.5])
        spans.append(_span(ex, "root", rnd.choice(["alpha", "beta", "beta", "Gamma"]), start, duration,
                           rnd.choice([0, 5, 5])))  # fmt: skip
        for j in range(rnd.randint(0, 3)):
            spans.append(_span(ex, f"c{j}", "child", start + timedelta(milliseconds=j), 0.1, rnd.choice([0, 3])))
    for j in range(17):  # one wide execution for Execution.spans
        start = T0 + timedelta(milliseconds=rnd.choice([0, 1, 1, 2]))
        spans.append(_span("wide", f"w{j:02d}", rnd.choice(["a", "b", "b"]), start, rnd.choice([None, 0.5, 0.5]),
                           rnd.choice([0, 2, 2, 9])))  # fmt: skip
    await tenant.gql_data(LOG_SPANS, {"s": spans})
    events = [{"name": rnd.choice(["e.one", "e.two", "e.two"]), "correlationId": "corr",
               "timestamp": (T0 + timedelta(hours=1, seconds=rnd.choice([0, 0, 1]))).isoformat(),
               "actor": {"type": "user", "id": "u"}, "executionId": "wide"} for _ in range(14)]  # fmt: skip
    await tenant.gql_data(INGEST, {"e": events})


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _page_through(fetch: Fetch, order: dict[str, str] | None, size: int, backward: bool) -> list[str]:
    """Every id in order, following cursors one page of `size` at a time; checks pageInfo on the way."""
    ids: list[str] = []
    cursor = None
    while True:
        args: dict[str, Any] = {"orderBy": order}
        args.update({"last": size, "before": cursor} if backward else {"first": size, "after": cursor})
        conn = await fetch(args)
        page = [e["node"]["id"] for e in conn["edges"]]
        info = conn["pageInfo"]
        assert len(page) <= size
        if page:
            assert (info["startCursor"], info["endCursor"]) == (conn["edges"][0]["cursor"], conn["edges"][-1]["cursor"])
        more = info["hasPreviousPage"] if backward else info["hasNextPage"]
        assert (info["hasNextPage"] if backward else info["hasPreviousPage"]) == (cursor is not None)
        ids = page + ids if backward else ids + page
        if not more:
            return ids
        assert len(page) == size
        cursor = info["startCursor"] if backward else info["endCursor"]


async def _check_every_order(
    fetch: Fetch, rows: list[dict[str, Any]], keys: dict[str, Callable[[dict[str, Any]], Any]]
) -> None:
    assert len({r["id"] for r in rows}) == len(rows) > 10
    for field, key in keys.items():
        for direction in ("ASC", "DESC"):
            expected = [r["id"] for r in sorted(rows, key=lambda r: (key(r), r["id"]), reverse=direction == "DESC")]
            assert len({key(r) for r in rows}) < len(rows), f"{field} has no ties to break"
            order = {"field": field, "direction": direction}
            for size in (3,):
                assert await _page_through(fetch, order, size, backward=False) == expected, (field, direction, size)
                assert await _page_through(fetch, order, size, backward=True) == expected, (field, direction, size)


def _duration(r: dict[str, Any]) -> float:
    return -1.0 if r["durationMs"] is None else r["durationMs"]  # running: before any finished one ascending


def _tokens(r: dict[str, Any]) -> int:
    return r["usage"]["totalTokens"] if r["usage"] else 0


EXECUTIONS = """query($first: Int, $after: String, $last: Int, $before: String, $orderBy: ExecutionOrder) {
  executions(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } }"""
SPANS = """query($first: Int, $after: String, $last: Int, $before: String, $orderBy: SpanOrder) {
  execution(id: "wide") { spans(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } } }"""
EVENTS = """query($first: Int, $after: String, $last: Int, $before: String, $orderBy: EventOrder) {
  events(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } }"""


async def test_executions_every_order_both_directions(tenant: Tenant) -> None:
    await _seed(tenant)
    rows = [e["node"] for e in (await tenant.gql_data(
        "{ executions(first: 1000) { edges { node { id name startTime durationMs spanCount "
        "usage { totalTokens } } } } }"
    ))["executions"]["edges"]]  # fmt: skip

    async def fetch(args: dict[str, Any]) -> dict[str, Any]:
        return (await tenant.gql_data(EXECUTIONS, args))["executions"]

    await _check_every_order(fetch, rows, {
        "START_TIME": lambda r: _time(r["startTime"]), "DURATION": _duration, "NAME": lambda r: r["name"],
        "SPAN_COUNT": lambda r: r["spanCount"], "TOKENS": _tokens,
    })  # fmt: skip
    # no orderBy: newest first, both directions
    default = [r["id"] for r in sorted(rows, key=lambda r: (_time(r["startTime"]), r["id"]), reverse=True)]
    assert await _page_through(fetch, None, 5, backward=False) == default
    assert await _page_through(fetch, None, 5, backward=True) == default


async def test_execution_spans_every_order_both_directions(tenant: Tenant) -> None:
    await _seed(tenant)
    rows = [e["node"] for e in (await tenant.gql_data(
        '{ execution(id: "wide") { spans(first: 1000) { edges { node { id name startTime durationMs '
        "usage { totalTokens } } } } } }"
    ))["execution"]["spans"]["edges"]]  # fmt: skip

    async def fetch(args: dict[str, Any]) -> dict[str, Any]:
        return (await tenant.gql_data(SPANS, args))["execution"]["spans"]

    await _check_every_order(fetch, rows, {
        "START_TIME": lambda r: _time(r["startTime"]), "DURATION": _duration, "NAME": lambda r: r["name"],
        "TOKENS": _tokens,
    })  # fmt: skip
    default = [r["id"] for r in sorted(rows, key=lambda r: (_time(r["startTime"]), r["id"]))]
    assert await _page_through(fetch, None, 3, backward=True) == default


async def test_events_every_order_both_directions(tenant: Tenant) -> None:
    await _seed(tenant)
    rows = [e["node"] for e in (await tenant.gql_data(
        "{ events(first: 1000) { edges { node { id name timestamp } } } }"))["events"]["edges"]]  # fmt: skip

    async def fetch(args: dict[str, Any]) -> dict[str, Any]:
        return (await tenant.gql_data(EVENTS, args))["events"]

    await _check_every_order(fetch, rows, {"TIMESTAMP": lambda r: _time(r["timestamp"]), "NAME": lambda r: r["name"]})


async def test_nested_and_filtered_event_lists_page_backward(tenant: Tenant) -> None:
    await _seed(tenant)
    """The lists without orderBy (a fixed time order), root and nested (first pages batch through loaders)."""
    lists: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
        "correlation": ('eventsByCorrelation(correlationId: "corr", ARGS)', lambda d: d["eventsByCorrelation"]),
        "execution": ('execution(id: "wide") { events(ARGS)', lambda d: d["execution"]["events"]),
        "actor": ('actor(type: "user", id: "u") { events(ARGS)', lambda d: d["actor"]["events"]),
    }
    for name, (field, pick) in lists.items():
        closing = "}" if "{" in field else ""
        selection = "{ pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } }"
        query = ("query($first: Int, $after: String, $last: Int, $before: String) { "
                 + field.replace("ARGS", "first: $first, after: $after, last: $last, before: $before")
                 + f" {selection} {closing} }}")  # fmt: skip

        async def fetch(args: dict[str, Any], query: str = query, pick: Any = pick) -> dict[str, Any]:
            args.pop("orderBy")
            return pick(await tenant.gql_data(query, args))  # type: ignore[no-any-return]

        everything = await _page_through(fetch, None, 1000, backward=False)
        assert len(everything) >= 14, name
        assert await _page_through(fetch, None, 3, backward=False) == everything, name
        assert await _page_through(fetch, None, 3, backward=True) == everything, name


async def test_cursors_are_bound_to_their_order_and_direction(tenant: Tenant) -> None:
    await _seed(tenant)

    async def end_cursor(order: dict[str, str] | None) -> str:
        conn = (await tenant.gql_data(EXECUTIONS, {"first": 2, "orderBy": order}))["executions"]
        return conn["pageInfo"]["endCursor"]  # type: ignore[no-any-return]

    by_name = await end_cursor({"field": "NAME", "direction": "ASC"})
    by_default = await end_cursor(None)
    cases = [
        ({"first": 2, "after": by_name, "orderBy": {"field": "NAME", "direction": "DESC"}}, "after"),
        ({"first": 2, "after": by_name, "orderBy": {"field": "DURATION", "direction": "ASC"}}, "after"),
        ({"first": 2, "after": by_default, "orderBy": {"field": "NAME", "direction": "ASC"}}, "after"),
        ({"first": 2, "after": by_name}, "after"),
        ({"last": 2, "before": by_default, "orderBy": {"field": "NAME", "direction": "ASC"}}, "before"),
        ({"last": 2, "after": by_default}, "after"),  # `after` pages forward
        ({"first": 2, "before": by_default}, "before"),  # `before` needs `last`
        ({"last": -1}, "last"),
        ({"first": 2, "after": "garbage"}, "after"),
    ]
    for args, argument in cases:
        body = await tenant.gql(EXECUTIONS, args)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": argument}, (args, body)
    spans = await tenant.gql(SPANS, {"first": 2, "after": by_default})  # an executions cursor on spans
    assert spans["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
