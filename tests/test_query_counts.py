"""N+1: the ClickHouse and Postgres queries of one GraphQL request stay the same as the data grows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.auth import resolve_key
from server.state import AppState
from tests.conftest import Tenant, make_tenant
from tests.traces import log_events, log_trace

TRACE_QUERY = """query($id: ID!) { execution(id: $id) {
  name status spanCount usage { totalTokens byModel { model } } cost { value } actor { displayName }
  spans(first: 10000) { totalCount edges { node {
    id parentId name kind status startTime endTime inputs outputs usage { totalTokens } cost { value }
    parent { id } children { id } events { name actor { displayName } resource { name } }
    execution { id } } } }
  rootSpans { children { children { children { id events { id } } } } }
  events(first: 1000) { totalCount edges { node {
    name actor { displayName stats { total } } resource { name } span { name } execution { id } causedBy { id } } } }
} }"""

EVENTS_QUERY = """{
  events(first: 1000) { totalCount edges { node {
    name actor { displayName events(first: 2) { totalCount edges { node { id } } } stats { total } }
    resource { name events(first: 2) { edges { node { id } } } }
    execution { name spanCount } span { name parent { id } } causedBy { id } } } }
  actorStats { actor { displayName events(first: 3) { totalCount } } }
  byCorrelation: eventsByCorrelation(correlationId: "corr-ex", first: 1000) { totalCount edges { node {
    actor { displayName } resource { name } span { name } execution { name } } } }
  byResource: eventsByResource(resourceType: "artifact", resourceId: "art-1", first: 1000) { edges { node {
    actor { displayName } causedBy { id } span { parent { id } } } } }
}"""

EXECUTIONS_QUERY = """{ executions(first: 50) { totalCount edges { node {
  id status spanCount usage { totalTokens } cost { value } actor { displayName }
  rootSpans { children { id } } spans(first: 5) { edges { node { id events { id } } } }
  events(first: 3) { totalCount edges { node { actor { displayName } resource { name } } } } } } } }"""


async def _count(
    state: AppState, tenant: Tenant, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, int]:
    await state.writer.drain()  # earlier writes publish live messages; they must not count toward this read
    # The key is cached for a few seconds: refreshed now, its lookup is not counted toward this read either.
    await resolve_key(state, tenant.key, refresh=True)
    ch_before, pg_before = state.ch.queries, state.pg_counter.queries
    await tenant.gql_data(query, variables)
    return state.ch.queries - ch_before, state.pg_counter.queries - pg_before


@pytest.fixture
async def two(app: Any, state: AppState) -> AsyncIterator[tuple[Tenant, Tenant]]:
    async for small in make_tenant(app, state):
        async for large in make_tenant(app, state):
            yield small, large


def assert_flat(counts: list[tuple[int, int]]) -> None:
    """The same queries for little and much data. Which dataloader batch a load joins depends on when the
    loads before it returned, so on a loaded machine one batch may split in two: a difference of one is
    timing, while an N+1 would differ by the number of items (hundreds here)."""
    (ch_small, pg_small), (ch_large, pg_large) = counts
    assert abs(ch_small - ch_large) <= 1 and abs(pg_small - pg_large) <= 1, counts


async def test_trace_query_count_is_flat_in_span_count(state: AppState, two: tuple[Tenant, Tenant]) -> None:
    small, large = two
    await log_trace(small, "ex", count=10, depth=4)
    await log_trace(large, "ex", count=1000, depth=4)
    for tenant, n in ((small, 10), (large, 1000)):
        await log_events(tenant, "ex", count=n // 2, span_count=n)
    counts = [await _count(state, t, TRACE_QUERY, {"id": "ex"}) for t in (small, large)]
    assert_flat(counts)
    assert counts[0][0] <= 12, counts  # a handful per request, not per span


async def test_trace_query_count_is_flat_in_depth(state: AppState, two: tuple[Tenant, Tenant]) -> None:
    shallow, deep = two
    await log_trace(shallow, "ex", count=40, depth=2)
    await log_trace(deep, "ex", count=40, depth=8)
    counts = [await _count(state, t, TRACE_QUERY, {"id": "ex"}) for t in (shallow, deep)]
    assert_flat(counts)


async def test_event_list_query_count_is_flat_in_event_count(state: AppState, two: tuple[Tenant, Tenant]) -> None:
    few, many = two
    for tenant, n in ((few, 5), (many, 500)):
        await log_trace(tenant, "ex", count=20, depth=3)
        await log_events(tenant, "ex", count=n, span_count=20)
    counts = [await _count(state, t, EVENTS_QUERY) for t in (few, many)]
    assert_flat(counts)
    assert counts[0][1] <= 4, counts  # actors and resources: one Postgres query each per level


async def test_executions_list_query_count_is_flat(state: AppState, two: tuple[Tenant, Tenant]) -> None:
    few, many = two
    for tenant, n in ((few, 2), (many, 20)):
        for i in range(n):
            await log_trace(tenant, f"ex-{i}", count=6, depth=3)
            await log_events(tenant, f"ex-{i}", count=4, span_count=6)
    counts = [await _count(state, t, EXECUTIONS_QUERY) for t in (few, many)]
    assert_flat(counts)


NODES_QUERY = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename nodeId
  ... on Execution { name spanCount usage { totalTokens } actor { displayName } }
  ... on Span { name parent { id } execution { name } events { id } }
  ... on Event { name actor { displayName } span { name } eventExecution: execution { name } }
  ... on Actor { displayName } ... on Resource { resourceName: name } } }"""


async def test_nodes_query_count_is_flat_in_id_count(state: AppState, two: tuple[Tenant, Tenant]) -> None:
    few, many = two
    ids: dict[str, list[str]] = {}
    for tenant, n in ((few, 2), (many, 20)):
        node_ids: list[str] = []
        for i in range(n):
            await log_trace(tenant, f"ex-{i}", count=4, depth=2)
            await log_events(tenant, f"ex-{i}", count=2, span_count=4)
            data = await tenant.gql_data(
                """query($id: ID!) { execution(id: $id) { nodeId spans(first: 2) { edges { node { nodeId } } }
                events(first: 20) { edges { node { nodeId actor { nodeId } resource { nodeId } } } } } }""",
                {"id": f"ex-{i}"},
            )
            ex = data["execution"]
            node_ids += [ex["nodeId"], *(e["node"]["nodeId"] for e in ex["spans"]["edges"])]
            for event in (e["node"] for e in ex["events"]["edges"] if e["node"]["actor"]):
                node_ids += [event["nodeId"], event["actor"]["nodeId"], event["resource"]["nodeId"]]
        ids[tenant.name] = node_ids[:100]
    assert len(ids[many.name]) == 100 and len(ids[few.name]) < 20
    counts = [await _count(state, t, NODES_QUERY, {"ids": ids[t.name]}) for t in (few, many)]
    assert_flat(counts)


ORDERED_EXECUTIONS = """query($e: ExecutionOrder, $s: SpanOrder) {
  executions(first: 50, orderBy: $e) { edges { node { id usage { totalTokens }
    spans(first: 5, orderBy: $s) { edges { node { id parent { id } events { id } } } }
    events(last: 3) { edges { node { actor { displayName } } } } } } } }"""
ORDERED_EVENTS = """query($v: EventOrder) {
  head: events(first: 100, orderBy: $v) { edges { node { name span { name } execution { name } } } }
  tail: events(last: 100, orderBy: $v) { edges { node { name span { name } execution { name } } } } }"""


async def test_ordered_lists_query_count_is_flat(state: AppState, two: tuple[Tenant, Tenant]) -> None:
    few, many = two
    for tenant, n in ((few, 2), (many, 20)):
        for i in range(n):
            await log_trace(tenant, f"ex-{i}", count=6, depth=3)
            await log_events(tenant, f"ex-{i}", count=4, span_count=6)
    for e, s, v in (("DURATION", "NAME", "NAME"), ("TOKENS", "TOKENS", "TIMESTAMP"), ("NAME", "DURATION", "NAME")):
        variables = {"e": {"field": e, "direction": "ASC"}, "s": {"field": s, "direction": "DESC"}}
        counts = [await _count(state, t, ORDERED_EXECUTIONS, variables) for t in (few, many)]
        assert_flat(counts)
        counts = [await _count(state, t, ORDERED_EVENTS, {"v": {"field": v, "direction": "DESC"}}) for t in (few, many)]
        assert_flat(counts)


PAGE_ONLY = """query($id: ID!, $after: String) { execution(id: $id) { id
  spans(first: 50, after: $after) { pageInfo { endCursor }
    edges { node { id name inputs usage { totalTokens } } } } } }"""
SKIPPED_PAGE = """query($id: ID!) { execution(id: $id) { id
  spans(first: 5) @skip(if: true) { edges { node { id } } } } }"""
TRACE_PAGE = """query($id: ID!) { execution(id: $id) {
  spans(first: 50, orderBy: {field: NAME, direction: ASC}) { edges { node { id parent { id } } } } } }"""


async def test_a_page_of_spans_alone_is_one_query(state: AppState, two: tuple[Tenant, Tenant]) -> None:
    """`execution(id) { spans }` with a span in its page: that page is the one query (it shows the execution
    exists); a page past the end, or an unknown id, adds the existence check."""
    tenant, other = two
    await log_trace(tenant, "ex", count=30, depth=3)
    data = await tenant.gql_data(PAGE_ONLY, {"id": "ex"})
    end = data["execution"]["spans"]["pageInfo"]["endCursor"]
    assert await _count(state, tenant, PAGE_ONLY, {"id": "ex"}) == (1, 0)
    assert await _count(state, tenant, TRACE_PAGE, {"id": "ex"}) == (1, 0)  # the whole trace, read once
    assert await _count(state, tenant, PAGE_ONLY, {"id": "ex", "after": end}) == (2, 0)
    assert await _count(state, tenant, PAGE_ONLY, {"id": "nope"}) == (2, 0)
    assert await _count(state, other, PAGE_ONLY, {"id": "ex"}) == (2, 0)  # another tenant's id
    assert await _count(state, tenant, SKIPPED_PAGE, {"id": "ex"}) == (1, 0)  # no page to read: the check alone
    assert await tenant.gql_data(SKIPPED_PAGE, {"id": "ex"}) == {"execution": {"id": "ex"}}
