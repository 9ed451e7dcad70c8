"""Text search: `executions(filter: {search})` and `searchSpans` find case-insensitive substrings of span
names, inputs, outputs and errors, literally, within the caller's tenant only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from server.state import AppState
from storage.clickhouse.search import SEARCH_TEXT, candidate_spans_sql
from storage.postgres import keys
from tests.conftest import Tenant
from tests.traces import LOG_SPANS

T = datetime(2024, 7, 1, tzinfo=UTC)
EXECUTIONS = """query($q: String!) { executions(filter: {search: $q}, first: 100) {
  totalCount edges { node { id } } } }"""
SPANS = """query($q: String!, $first: Int, $after: String) { searchSpans(search: $q, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id executionId name parent { id } children { id } execution { id } } } } }"""


def span(execution: str, sid: str, name: str, at: int, parent: str | None = None, **fields: Any) -> dict[str, Any]:
    start = T + timedelta(seconds=at)
    return {"id": sid, "executionId": execution, "parentId": parent, "name": name, "startTime": start.isoformat(),
            "endTime": (start + timedelta(seconds=1)).isoformat(), **fields}  # fmt: skip


async def log(tenant: Tenant, spans: list[dict[str, Any]]) -> None:
    await tenant.gql_data(LOG_SPANS, {"s": spans})


async def executions(tenant: Tenant, q: str) -> list[str]:
    data = (await tenant.gql_data(EXECUTIONS, {"q": q}))["executions"]
    ids = sorted(e["node"]["id"] for e in data["edges"])
    assert data["totalCount"] == len(ids)
    return ids


async def spans(tenant: Tenant, q: str) -> list[tuple[str, str]]:
    data = (await tenant.gql_data(SPANS, {"q": q, "first": 1000}))["searchSpans"]
    found = sorted((e["node"]["executionId"], e["node"]["id"]) for e in data["edges"])
    assert data["totalCount"] == len(found)
    return found


async def test_finds_substrings_of_each_field_case_insensitively(tenant: Tenant) -> None:
    await log(tenant, [
        span("by-name", "s0", "Fetch WEATHER report", 0),
        span("by-input", "s0", "root", 1), span("by-input", "s1", "step", 2, "s0", inputs={"city": "Zürich Nord"}),
        span("by-output", "s0", "root", 3, outputs={"text": "sunny, 21°C"}),
        span("by-error", "s0", "root", 4, status="FAILED", error={"message": "Rate limit exceeded"}),
        span("none", "s0", "root", 5, inputs={"city": "Paris"}),
    ])  # fmt: skip
    assert await executions(tenant, "weather") == ["by-name"]
    assert await executions(tenant, "zÜRICH") == ["by-input"]  # UTF-8 case folding
    assert await executions(tenant, "SUNNY, 21") == ["by-output"]
    assert await executions(tenant, "limit exc") == ["by-error"]
    assert await executions(tenant, "nothing like it") == []
    assert await spans(tenant, "zürich") == [("by-input", "s1")]
    assert await spans(tenant, "ROOT") == [("by-error", "s0"), ("by-input", "s0"), ("by-output", "s0"),
                                           ("none", "s0")]  # fmt: skip


async def test_like_metacharacters_match_literally(tenant: Tenant) -> None:
    await log(tenant, [
        span("percent", "s0", "discount 100% off", 0), span("digits", "s0", "discount 1000 off", 1),
        span("underscore", "s0", "step_one", 2), span("letter", "s0", "stepXone", 3),
        span("backslash", "s0", "root", 4, inputs={"path": "C:\\temp"}), span("plain", "s0", "C:temp", 5),
    ])  # fmt: skip
    assert await executions(tenant, "100%") == ["percent"]
    assert await executions(tenant, "%") == ["percent"]
    assert await executions(tenant, "p_o") == ["underscore"]
    assert await executions(tenant, "_") == ["underscore"]
    # inputs are searched as stored JSON text, where the backslash is escaped: C:\\temp
    assert await executions(tenant, "c:\\\\") == ["backslash"]
    assert await executions(tenant, "\\") == ["backslash"]
    assert await spans(tenant, "0%") == [("percent", "s0")]


async def test_a_replaced_value_no_longer_matches(tenant: Tenant) -> None:
    await log(tenant, [span("ex", "s0", "draft title", 0)])
    await log(tenant, [span("ex", "s0", "final title", 0)])  # the same span sent again
    assert await executions(tenant, "draft") == []
    assert await executions(tenant, "final") == ["ex"]


async def test_another_tenants_spans_are_never_found(tenant: Tenant, other_tenant: Tenant) -> None:
    await log(other_tenant, [span("theirs", "s0", "secret plan", 0), span("shared-id", "s0", "secret", 1)])
    await log(tenant, [span("shared-id", "s0", "public", 0)])
    assert await executions(tenant, "secret") == []
    assert await spans(tenant, "secret") == []
    assert await executions(other_tenant, "secret") == ["shared-id", "theirs"]


async def test_search_spans_pages_and_resolves_the_tree(tenant: Tenant) -> None:
    await log(tenant, [
        span("ex", "s0", "root", 0), *[span("ex", f"s{i}", f"needle {i}", i, "s0") for i in range(1, 6)],
        span("ex2", "s0", "needle root", 10), span("ex2", "s1", "child", 11, "s0"),
    ])  # fmt: skip
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        data = (await tenant.gql_data(SPANS, {"q": "NEEDLE", "first": 2, "after": after}))["searchSpans"]
        assert data["totalCount"] == 6
        seen += [e["node"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert [(n["executionId"], n["id"]) for n in seen] == [("ex2", "s0"), *[("ex", f"s{i}") for i in range(5, 0, -1)]]
    assert seen[0]["children"] == [{"id": "s1"}] and seen[0]["parent"] is None
    assert seen[1]["parent"] == {"id": "s0"} and seen[1]["execution"] == {"id": "ex"}


async def test_search_spans_query_count_is_flat(tenant: Tenant, other_tenant: Tenant, state: AppState) -> None:
    for who, n in ((tenant, 2), (other_tenant, 40)):
        await log(who, [span(f"ex-{i}", "s0", f"needle {i}", i) for i in range(n)])
    counts = []
    for who in (tenant, other_tenant):
        await state.writer.drain()
        before = state.ch.queries
        await who.gql_data(SPANS, {"q": "needle", "first": 100})
        await who.gql_data(EXECUTIONS, {"q": "needle"})
        counts.append(state.ch.queries - before)
    assert counts[0] == counts[1], counts


async def test_the_skip_index_is_used(tenant: Tenant, state: AppState) -> None:
    """Migration 3 added the n-gram index, and the search's candidate scan names its expression."""
    await log(tenant, [span("ex", "s0", "indexed", 0)])
    await state.writer.drain()
    rows = await state.ch.query("SELECT name, expr, type FROM system.data_skipping_indices WHERE table = 'spans'")
    assert ("idx_search", "ngrambf_v1") in [(r[0], r[2]) for r in rows.rows]
    principal = await keys.find_principal(state.pg, tenant.key)
    assert principal is not None
    params: dict[str, Any] = {"tenant": principal.tenant_id}
    sql = candidate_spans_sql("indexed", params)
    assert SEARCH_TEXT in sql
    plan = "\n".join(r[0] for r in (await state.ch.query(f"EXPLAIN indexes = 1 {sql}", params)).rows)
    assert "idx_search" in plan, plan
