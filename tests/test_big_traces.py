"""Big traces: one execution of 50,000 spans in one request with the default limits, pages that read only
their rows, skeletons that read only their columns, and the refusal of a query far beyond one trace.

The speed of these reads is measured in bench/trace_query.py; these tests pin what it rests on.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from ingest.records import SpanPiece
from server.state import AppState
from storage.clickhouse.spans import ALL_DETAILS, SpanWindow, read_spans
from tests.big_traces import SPAN_FIELDS, TEXT, insert_big_trace
from tests.conftest import Tenant, make_tenant
from tests.test_span_reads import write
from tests.traces import INGEST

FULL = (
    "query($id: ID!, $n: Int, $after: String) { execution(id: $id) { spans(first: $n, after: $after) { "
    "totalCount pageInfo { hasNextPage endCursor } edges { node { " + SPAN_FIELDS + " } } } } }"
)
SKELETON = """query($id: ID!, $n: Int, $after: String) { execution(id: $id) { spans(first: $n, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id parentId name kind status startTime endTime } } } } }"""
DETAIL_COLUMNS = ("inputs", "outputs", "error", "attributes", "usage", "cost", "input_tokens", "output_tokens",
                  "cache_creation_input_tokens", "cache_read_input_tokens")  # fmt: skip


async def _tenant_id(state: AppState, tenant: Tenant) -> str:
    return await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)


def _reads_spans(sql: str) -> bool:
    """Whether the SQL is a read of spans in start order (storage.clickhouse.spans: piece_read_sql,
    one_piece_read_sql, which sorts one execution's pieces without its id, …)."""
    return "ORDER BY execution_id, start" in sql or ("FROM spans WHERE" in sql and " ORDER BY start" in sql)


@contextmanager
def span_reads(state: AppState, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, Any], int]]]:
    """The reads of spans ClickHouse answers while inside: (SQL, parameters, rows returned). The real store
    answers them; this only writes down what it was asked."""
    seen: list[tuple[str, dict[str, Any], int]] = []
    query, converted = state.ch.query, state.ch.query_converted

    async def recording(sql: str, params: dict[str, Any] | None = None) -> Any:
        rows = await query(sql, params)
        if _reads_spans(sql):
            seen.append((sql, params or {}, len(rows.rows)))
        return rows

    async def recording_converted(sql: str, params: dict[str, Any] | None, *args: Any, **kwargs: Any) -> Any:
        records = await converted(sql, params, *args, **kwargs)
        if _reads_spans(sql):
            seen.append((sql, params or {}, len(records)))
        return records

    monkeypatch.setattr(state.ch, "query", recording)
    monkeypatch.setattr(state.ch, "query_converted", recording_converted)
    yield seen
    monkeypatch.undo()


def _columns_read(sql: str) -> set[str]:
    """The detail columns an SQL text names (m_inputs and the like are its own aliases, not columns)."""
    return {c for c in DETAIL_COLUMNS if re.search(rf"(?<![\w.]){c}(?!\w)", sql)}


async def test_a_50k_span_execution_in_one_request_with_default_settings(tenant: Tenant, state: AppState) -> None:
    await insert_big_trace(state.ch, await _tenant_id(state, tenant), "big", 50_000)
    body = await tenant.gql(FULL, {"id": "big", "n": 50_000})
    assert "errors" not in body, body["errors"][:1]
    spans = body["data"]["execution"]["spans"]
    assert spans["totalCount"] == 50_000 and not spans["pageInfo"]["hasNextPage"]
    nodes = [e["node"] for e in spans["edges"]]
    assert [n["id"] for n in nodes[:3]] == ["s0", "s1", "s2"] and nodes[-1]["id"] == "s49999"
    root, model, failed = nodes[0], nodes[1], nodes[99]
    assert root["parentId"] is None and model["parentId"] == "s0" and nodes[9]["parentId"] == "s1"
    assert root["inputs"] == {"text": TEXT + "0"} and root["attributes"] == {"n": 0, "team": "search"}
    assert model["usage"]["totalTokens"] == 160 and model["usage"]["byModel"][0]["model"] == "gpt-4o"
    assert model["cost"] == [{"value": 0.0007, "unit": "USD", "source": "price_table:gpt-4o"}]
    assert failed["status"] == "FAILED" and failed["error"]["message"] == "boom" and root["error"] is None
    assert root["startTime"] == "2024-01-01T00:00:00.000000Z" and root["durationMs"] == 50.0

    # far more than one big trace: refused before anything runs, saying how to page
    many = "{ executions(first: 100) { edges { node { spans(first: 100000) { edges { node { id } } } } } } }"
    error = (await tenant.gql(many))["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY" and error["extensions"]["limit"] == 1_000_000
    assert "`first`" in error["message"] and "after: pageInfo.endCursor" in error["message"]


async def test_a_page_reads_only_its_rows(tenant: Tenant, state: AppState, monkeypatch: pytest.MonkeyPatch) -> None:
    await insert_big_trace(state.ch, await _tenant_id(state, tenant), "paged", 2_000)
    one_shot = (await tenant.gql_data(FULL, {"id": "paged", "n": 2_000}))["execution"]["spans"]
    whole = [e["node"] for e in one_shot["edges"]]
    pages: list[dict[str, Any]] = []
    after = None
    with span_reads(state, monkeypatch) as reads:
        while True:
            page = (await tenant.gql_data(FULL, {"id": "paged", "n": 500, "after": after}))["execution"]["spans"]
            pages += [e["node"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    assert pages == whole  # the pages together are the trace, in order, nothing repeated
    # one span read a page, each returning that page and the one row that says another follows
    assert [rows for _, _, rows in reads] == [501, 501, 501, 500]
    assert all(params["limit"] == 501 for _, params, _ in reads)
    assert "LIMIT {limit:UInt64} BY execution_id" in reads[0][0]
    for sql, _, _ in reads[1:]:  # the keyset is in SQL, as typed parameters, on each piece's own start and id
        assert "(ifNull(start_time, ts), span_id) > ({after_start:DateTime64(6, 'UTC')}, {after_id:String})" in sql
        assert sql.endswith("LIMIT {limit:UInt64}") and "GROUP BY" not in sql
        # of one execution: neither the sort nor the several-pieces set carries its id (one_piece_read_sql)
        assert sql.endswith(" ORDER BY start, span_id LIMIT {limit:UInt64}")
        assert "span_id IN (SELECT span_id FROM spans WHERE" in sql and "(execution_id, span_id) IN" not in sql
    assert [params.get("after_id") for _, params, _ in reads] == [None, *(whole[i]["id"] for i in (499, 999, 1499))]
    # ClickHouse sorts the key columns of the trace's pieces and reads every other column for the page's rows
    # only, after the LIMIT (lazy materialization): a page past a cursor does not read the trace's texts
    for sql, params, _ in reads[1:]:
        plan = "\n".join(row[0] for row in (await state.ch.query(f"EXPLAIN {sql}", params)).rows)
        lazily_read = re.findall(r"Lazily read columns: (.*)", plan)
        assert len(lazily_read) == 1 and set(DETAIL_COLUMNS) <= set(lazily_read[0].split(", ")), plan


async def test_a_skeleton_reads_only_its_columns(
    tenant: Tenant, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    await insert_big_trace(state.ch, await _tenant_id(state, tenant), "skel", 300)
    with span_reads(state, monkeypatch) as reads:
        await tenant.gql_data(SKELETON, {"id": "skel", "n": 300})
        inputs_only = SKELETON.replace("endTime }", "endTime inputs }")
        await tenant.gql_data(inputs_only, {"id": "skel", "n": 300})
        await tenant.gql_data(FULL, {"id": "skel", "n": 300})
    (skeleton_sql, _, _), (inputs_sql, _, _), (full_sql, _, _) = reads
    assert _columns_read(skeleton_sql) == set()
    # the skeleton's pieces as they are: no merge, no subquery (storage.clickhouse.spans.piece_read_sql)
    assert "GROUP BY" not in skeleton_sql and skeleton_sql.count("SELECT") == 1
    assert _columns_read(inputs_sql) == {"inputs"}
    assert _columns_read(full_sql) == set(DETAIL_COLUMNS)


async def test_pages_and_skeletons_keep_the_merge_of_spans_sent_in_pieces(tenant: Tenant) -> None:
    """Spans in several pieces (initiated, then fulfilled or rejected, one never ended) read by page and by
    column read the same as the whole trace does (a selection with `parent` reads the whole trace)."""
    events: list[dict[str, Any]] = []
    for i in range(12):
        span = {"executionId": "pieces", "spanId": f"p{i:02d}", "parentSpanId": None if i == 0 else "p00"}
        events.append({**span, "name": "node.execution.initiated", "timestamp": f"2024-02-01T00:00:{i:02d}Z",
                       "payload": {"name": f"node {i}", "inputs": {"i": i}}})  # fmt: skip
        if i % 4 != 3:  # every fourth never ends: RUNNING
            payload: dict[str, Any] = {"outputs": {"o": i}}
            if i % 4 == 2:
                payload["error"] = {"message": "no"}
            outcome = "rejected" if i % 4 == 2 else "fulfilled"
            events.append({**span, "name": f"node.execution.{outcome}", "timestamp": f"2024-02-01T00:01:{i:02d}Z",
                           "payload": payload})  # fmt: skip
    await tenant.gql_data(INGEST, {"e": events})
    fields = "id parentId name kind status startTime endTime durationMs inputs outputs error { message }"
    for order in ("", ", orderBy: {field: START_TIME, direction: DESC}"):
        paged_query = "query($after: String) { execution(id: \"pieces\") { spans(first: 5, after: $after" + order
        paged_query += ") { pageInfo { hasNextPage endCursor } edges { node { " + fields + " } } } } }"
        whole_query = paged_query.replace("first: 5", "first: 100").replace(fields, fields + " parent { id }")
        whole = [e["node"] for e in (await tenant.gql_data(whole_query))["execution"]["spans"]["edges"]]
        paged: list[dict[str, Any]] = []
        after = None
        while True:
            page = (await tenant.gql_data(paged_query, {"after": after}))["execution"]["spans"]
            paged += [e["node"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert paged == [{k: v for k, v in n.items() if k != "parent"} for n in whole] and len(paged) == 12
    statuses = {n["id"]: n["status"] for n in paged}
    assert (statuses["p00"], statuses["p02"], statuses["p03"]) == ("SUCCEEDED", "FAILED", "RUNNING")
    last = "{ execution(id: \"pieces\") { spans(last: 3) { edges { node { id outputs } } } } }"
    tail = [e["node"] for e in (await tenant.gql_data(last))["execution"]["spans"]["edges"]]
    assert tail == [{"id": "p09", "outputs": {"o": 9}}, {"id": "p10", "outputs": {"o": 10}},
                    {"id": "p11", "outputs": None}]  # fmt: skip


async def test_a_page_of_spans_alone_reads_no_summary_of_the_execution(
    app: Any, tenant: Tenant, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`execution(id) { spans { … } }` needs nothing of the execution's summary, which merges every span of the
    trace: a page with a span is the one query, and shows the execution exists; only an empty page asks the
    existence check. Any other field (or totalCount) reads the summary, and both answer the same."""
    await insert_big_trace(state.ch, await _tenant_id(state, tenant), "bare", 300)
    asked: list[str] = []
    query, converted = state.ch.query, state.ch.query_converted

    async def recording(sql: str, params: dict[str, Any] | None = None) -> Any:
        asked.append(sql)
        return await query(sql, params)

    async def recording_converted(sql: str, params: dict[str, Any] | None, *args: Any, **kwargs: Any) -> Any:
        asked.append(sql)
        return await converted(sql, params, *args, **kwargs)

    async def read(document: str, variables: dict[str, Any] | None = None) -> tuple[Any, list[str]]:
        asked.clear()
        data = await tenant.gql_data(document, variables)
        return data, list(asked)

    page_only = FULL.replace("totalCount ", "")
    summarized = page_only.replace("execution(id: $id) {", "execution(id: $id) { name spanCount")
    monkeypatch.setattr(state.ch, "query", recording)
    monkeypatch.setattr(state.ch, "query_converted", recording_converted)
    bare, reads = await read(page_only, {"id": "bare", "n": 100})
    with_summary, summary_reads = await read(summarized, {"id": "bare", "n": 100})
    missing, missing_reads = await read(page_only, {"id": "nope", "n": 100})
    whole, _ = await read(page_only, {"id": "bare", "n": 300})
    end = whole["execution"]["spans"]["pageInfo"]["endCursor"]
    past_the_end, past_reads = await read(page_only, {"id": "bare", "n": 100, "after": end})
    none_asked, none_reads = await read(page_only, {"id": "bare", "n": 0})
    ordered_query = 'query($o: SpanOrder) { execution(id: "bare") { ... on Execution { spans(last: 3, ' \
        'orderBy: $o) { edges { node { id } } } } } }'
    ordered, ordered_reads = await read(ordered_query, {"o": {"field": "START_TIME", "direction": "DESC"}})
    async for other in make_tenant(app, state):  # the same id under another tenant
        asked.clear()
        elsewhere = await other.gql_data(page_only, {"id": "bare", "n": 100})
        elsewhere_reads = list(asked)
    fragment = "query($id: ID!) { execution(id: $id) { ...E } } " \
        "fragment E on Execution { id spans(first: 2) { totalCount } }"
    counted = (await tenant.gql_data(fragment, {"id": "bare"}))["execution"]
    monkeypatch.undo()
    assert bare["execution"]["spans"] == with_summary["execution"]["spans"]
    assert with_summary["execution"]["spanCount"] == 300
    assert len(reads) == 1 and "ORDER BY execution_id, start" in reads[0]  # the page alone: one query
    assert len(summary_reads) == 2 and "root_span_id" in summary_reads[0]
    assert missing == {"execution": None}
    assert len(missing_reads) == 2 and "LIMIT 1 BY execution_id" in missing_reads[1]  # an empty page asks
    # an execution that exists with no span in the page's range: itself, with no edges
    assert past_the_end == {"execution": {"spans": {"pageInfo": {"hasNextPage": False, "endCursor": None},
                                                    "edges": []}}}  # fmt: skip
    assert len(past_reads) == 2 and "LIMIT 1 BY execution_id" in past_reads[1]
    assert none_asked == past_the_end and len(none_reads) == 1  # first: 0 reads no page, only the check
    assert len(ordered["execution"]["spans"]["edges"]) == 3 and len(ordered_reads) == 1
    assert elsewhere == {"execution": None} and len(elsewhere_reads) == 2
    assert counted == {"id": "bare", "spans": {"totalCount": 300}}  # totalCount is the summary's count


def test_span_needs_read_off_the_document_through_fragments() -> None:
    """graph/span_selection.py reads what a `spans` selection needs off the parsed document, fragments and inline
    fragments spread out: the detail columns its nodes select, and the whole trace for parent or children."""
    from graphql import FieldNode, OperationDefinitionNode, parse

    from graph.span_selection import span_needs

    def needs(document: str) -> tuple[frozenset[str], bool]:
        parsed = parse(document)
        fragments = {d.name.value: d for d in parsed.definitions if not isinstance(d, OperationDefinitionNode)}
        operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
        execution = operation.selection_set.selections[0]
        assert isinstance(execution, FieldNode) and execution.selection_set is not None
        spans = [s for s in execution.selection_set.selections if isinstance(s, FieldNode) and s.name.value == "spans"]
        found = span_needs(spans, fragments)  # type: ignore[arg-type]
        return found.details, found.trace

    assert needs("{ execution(id: 1) { spans { edges { node { ...Skeleton } } } } }"
                 "fragment Skeleton on Span { id name startTime }") == (frozenset(), False)  # fmt: skip
    detailed = "{ execution(id: 1) { spans { totalCount edges { cursor node { ... on Span { inputs } ...Cost } } } } }"
    assert needs(detailed + " fragment Cost on Span { cost { value } }") == ({"inputs", "cost"}, False)
    assert needs("{ execution(id: 1) { spans { edges { ...Edge } } } } "
                 "fragment Edge on SpanEdge { node { id ... on Span { parent { id } } } }")[1] is True  # fmt: skip


async def test_a_big_first_page_reads_only_its_rows_too(
    tenant: Tenant, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first page of 2,000 spans or more (and details) is read as a page past a cursor is, the texts of its rows
    only (the pieces read of a whole trace reads every piece's, to count each span's pieces); a smaller one, as
    asked of small traces read whole, keeps that one scan. Either way, the merged trace's first spans."""
    tid, ex = await _tenant_id(state, tenant), f"e-{uuid.uuid4().hex}"
    await insert_big_trace(state.ch, tid, ex, 2_500)
    merged = await read_spans(state.ch, tid, [ex], SpanWindow(None), ALL_DETAILS)
    assert len(merged) == 2_500
    for limit, lazily in ((2_000, True), (1_999, False)):
        for descending in (False, True):
            with span_reads(state, monkeypatch) as reads:
                page = await read_spans(state.ch, tid, [ex], SpanWindow(limit, None, descending))
            assert page == (merged[::-1] if descending else merged)[:limit]
            ((sql, params, _),) = reads  # one query: every span of one piece
            plan = "\n".join(row[0] for row in (await state.ch.query(f"EXPLAIN {sql}", params)).rows)
            assert ("Lazily read columns" in plan) == lazily and ("span_pieces" in sql) != lazily, (limit, sql)
    # a span of several pieces, its second piece (no start) sorted before every span: the merging read answers
    await write(state, tid, ex, "s2400", datetime(2023, 1, 1, tzinfo=UTC), SpanPiece(error="early"))
    merged = await read_spans(state.ch, tid, [ex], SpanWindow(None), ALL_DETAILS)
    assert merged[2400].error == "early" and merged[2400].pieces == 2
    for descending in (False, True):
        before = state.ch.queries
        page = await read_spans(state.ch, tid, [ex], SpanWindow(2_000, None, descending))
        assert page == (merged[::-1] if descending else merged)[:2_000] and state.ch.queries == before + 2
