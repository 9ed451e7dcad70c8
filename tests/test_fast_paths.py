"""The fast object completion and the raw bulk arguments give exactly what the plain paths give."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import strawberry

from graph import fast_execution
from graph.connection import Edge, Edges
from graph.context import Context, Stores
from graph.cost import Cost
from graph.execution import Execution
from graph.schema import build_schema
from graph.span import Span
from graph.usage import ModelUsage, Usage
from resolvers.node_ids import encode
from resolvers.paging import Page
from resolvers.records import SpanRecord
from server.state import AppState
from storage.postgres.keys import Principal
from tests.big_traces import SPAN_FIELDS, insert_big_trace
from tests.conftest import Tenant
from tests.traces import LOG_SPANS, log_events, log_trace, tree_spans

_START = datetime(2024, 1, 1, tzinfo=UTC)
# edges whose node alone is selected (under an alias): completed from the nodes, without Edge objects
NODES_ALONE = """query($id: ID!) { execution(id: $id) { spans(first: 50) { edges { n: node { id parentId name kind
    status startTime endTime durationMs inputs error { message } usage { totalTokens byModel { model } } cost { value }
    } } } } }"""
# a selection of what Span.FAST_RECORD_READS reads alone (a skeleton): completed from the records, without Spans
RECORDS_ALONE = """query($id: ID!) { execution(id: $id) { spans(first: 50) { edges { node { __typename id executionId
    parentId name kind kindName status startTime endTime } } } } }"""
QUERIES = [
    """query($id: ID!) { execution(id: $id) { __typename id name status spans(first: 50) { totalCount
        pageInfo { hasNextPage endCursor startCursor } edges { cursor node { __typename id nodeId parentId name kind
        kindName status startTime endTime durationMs inputs outputs attributes error { message code rawData }
        usage { inputTokens totalTokens byModel { model totalTokens } } cost { value unit }
        parent { id } children { id children { id } } } } } } }""",
    """query($id: ID!) { execution(id: $id) { rootSpans { ...S children { ...S children { ...S } } } } }
       fragment S on Span { id a: name b: name status usage { totalTokens } cost { unit } }""",
    """query($id: ID!) { execution(id: $id) { events(first: 20) { edges { node { id name timestamp payload
        actor { type id displayName } resource { type id } span { id name } } } } } }""",
    """{ executions(first: 5) { edges { node { id spanCount usage { byModel { model } } cost { value } } } } }""",
    """query($id: ID!) { s: span(executionId: $id, spanId: "s3") { id status error { message code }
        events { name } } }""",
    NODES_ALONE,
    RECORDS_ALONE,
    # abstract results: graphql-core resolves the type, then the concrete object may take the fast path
    f"""{{ nodes(ids: ["{encode("Span", "ex-f", "s1")}", "{encode("Execution", "ex-f")}",
        "{encode("Span", "ex-f", "s3")}"]) {{ __typename id nodeId
        ... on Span {{ name kind status parent {{ id nodeId }} }} }} }}""",
]


async def _execute(
    schema: Any, state: AppState, tenant_id: str, query: str, encode: bool = False, execution_id: str = "ex-f"
) -> Any:
    stores = Stores(state.ch, state.pg, state.writer, state.settings.max_batch_items)
    context = Context(stores, Principal("k", tenant_id, "t", ("admin",)))
    context.encode_items_early = encode
    return await schema.execute(query, variable_values={"id": execution_id}, context_value=context)


async def _run(schema: Any, state: AppState, tenant_id: str, query: str) -> dict[str, Any]:
    result = await _execute(schema, state, tenant_id, query)
    # as the response encoder writes it (stored JSON texts are orjson Fragments until then)
    return {"data": orjson.loads(orjson.dumps(result.data)), "errors": [e.message for e in result.errors or []]}


async def test_fast_completion_matches_the_normal_path(tenant: Tenant, state: AppState) -> None:
    await log_trace(tenant, "ex-f", count=30, depth=4, fail="s3")
    await log_events(tenant, "ex-f", count=10, span_count=30)
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    fast, plain = build_schema(), build_schema(raw_bulk_arguments=False, fast_objects=False)
    for query in QUERIES:
        expected = await _run(plain, state, tenant_id, query)
        assert expected["errors"] == [] and expected["data"]
        assert await _run(fast, state, tenant_id, query) == expected


async def test_items_encoded_early_encode_to_the_same_bytes(tenant: Tenant, state: AppState) -> None:
    """HTTP requests have the fast path hold each item of a list of objects as its encoded bytes: the response
    orjson writes from that is byte for byte the one the normal path's dicts give."""
    await log_trace(tenant, "ex-f", count=30, depth=4, fail="s3")
    await log_events(tenant, "ex-f", count=10, span_count=30)
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    fast, plain = build_schema(), build_schema(raw_bulk_arguments=False, fast_objects=False)
    for query in QUERIES:
        expected = await _execute(plain, state, tenant_id, query, encode=True)  # no plans: nothing to encode
        encoded = await _execute(fast, state, tenant_id, query, encode=True)
        assert not expected.errors and not encoded.errors
        assert orjson.dumps(encoded.data) == orjson.dumps(expected.data)
    first = await _execute(fast, state, tenant_id, QUERIES[0], encode=True)
    edges = first.data["execution"]["spans"]["edges"]  # 30 edges: one chunk
    assert len(edges) == 1 and isinstance(edges[0], orjson.Fragment) and len(orjson.loads(orjson.dumps(edges))) == 30
    assert isinstance((await _execute(fast, state, tenant_id, QUERIES[0])).data["execution"]["spans"]["edges"][0], dict)


async def test_edges_of_a_node_alone_complete_without_edge_objects(
    tenant: Tenant, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`edges { node { … } }` encoded early is completed from the page's nodes (encoded_objects), never building an
    Edge (~0.5 µs a span): the same bytes, with Edges' iteration made to fail; a selection of more than the node
    (a cursor) still iterates the edges."""
    await log_trace(tenant, "ex-f", count=30, depth=4, fail="s3")
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    fast, plain = build_schema(), build_schema(raw_bulk_arguments=False, fast_objects=False)
    query = NODES_ALONE
    expected = await _execute(plain, state, tenant_id, query, encode=True)

    def no_edges(self: Edges[Any]) -> Any:
        raise AssertionError("edges iterated")

    monkeypatch.setattr(Edges, "__iter__", no_edges)
    encoded = await _execute(fast, state, tenant_id, query, encode=True)
    assert not expected.errors and not encoded.errors
    assert orjson.dumps(encoded.data) == orjson.dumps(expected.data)
    assert len(orjson.loads(orjson.dumps(encoded.data))["execution"]["spans"]["edges"]) == 30
    with_cursor = query.replace("edges { n: node", "edges { cursor n: node")
    assert (await _execute(fast, state, tenant_id, with_cursor, encode=True)).errors


async def test_a_skeleton_page_completes_from_its_records(
    tenant: Tenant, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page whose selection reads only what Span.FAST_RECORD_READS reads (a skeleton, or every field of the
    bench's big traces) is completed from its records, never building a Span (~1 µs a span): the same bytes as
    the plain path with the nodes made to fail; a selection of a field beyond them (parent, which needs the
    Span's trace) still wraps each record in a Span."""
    await log_trace(tenant, "ex-f", count=30, depth=4, fail="s3")
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    fast, plain = build_schema(), build_schema(raw_bulk_arguments=False, fast_objects=False)
    expected = await _execute(plain, state, tenant_id, RECORDS_ALONE, encode=True)

    # counted, not made to fail: a plan that fails hands its object to the normal path, which would answer
    built: list[int] = []
    nodes = Edges.nodes

    def counted_nodes(self: Edges[Any]) -> Any:
        built.append(1)
        return nodes(self)

    monkeypatch.setattr(Edges, "nodes", counted_nodes)
    encoded = await _execute(fast, state, tenant_id, RECORDS_ALONE, encode=True)
    assert not expected.errors and not encoded.errors
    assert orjson.dumps(encoded.data) == orjson.dumps(expected.data)
    for query in (NODES_ALONE, RECORDS_ALONE.replace("endTime", f"endTime {SPAN_FIELDS}")):
        expected = await _execute(plain, state, tenant_id, query, encode=True)
        encoded = await _execute(fast, state, tenant_id, query, encode=True)
        assert not expected.errors and not encoded.errors
        assert orjson.dumps(encoded.data) == orjson.dumps(expected.data)
    assert built == []
    with_parent = RECORDS_ALONE.replace("endTime", "endTime parent { id }")
    expected = await _execute(plain, state, tenant_id, with_parent, encode=True)
    built.clear()
    encoded = await _execute(fast, state, tenant_id, with_parent, encode=True)
    assert not encoded.errors and orjson.dumps(encoded.data) == orjson.dumps(expected.data)
    assert built  # parent needs the Span's trace: the records are wrapped in Spans


# usage and cost under aliases, __typename, one field of each alone, a field twice
USAGE_AND_COST = [
    """usage { __typename t: totalTokens inputTokens outputTokens cacheCreationInputTokens cacheReadInputTokens
        byModel { __typename m: model model inputTokens outputTokens cacheCreationInputTokens cacheReadInputTokens
        totalTokens } } c: cost { __typename v: value unit source } cost { source }""",
    "usage { byModel { cacheReadInputTokens } } cost { value }",
    "u: usage { totalTokens } cost { unit unit }",
    "usage { __typename }",
]


async def test_usage_and_cost_complete_from_their_entries(
    tenant: Tenant, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page completed from its records completes usage and cost from the span's record and the stored entries
    (Usage.FAST_RECORD_READS, ModelUsage's, Cost's), never building a Usage, ModelUsage or Cost: the same bytes
    as the plain path for spans with several entries, none, a cost without a source or with a null one, integer
    values, a usage entry without a model."""
    spans = tree_spans("ex-f", 8, 3)
    spans[1]["usage"] = [{"model": "a", "inputTokens": 5, "outputTokens": 1, "cacheReadInputTokens": 2},
                         {"model": "b", "inputTokens": 7, "outputTokens": 3, "cacheCreationInputTokens": 4},
                         {"inputTokens": 1}]  # fmt: skip
    spans[1]["cost"] = [{"value": 1, "unit": "USD", "source": "reported"}, {"value": 0.25, "unit": "EUR"}, 2]
    spans[2]["usage"] = {"model": "c", "inputTokens": 9}  # its cost derived from it when the price table knows c
    await tenant.gql_data(LOG_SPANS, {"s": spans})
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    # texts as another writer may have stored them: a null source, integer values, keys in another order
    usage = '[{"output_tokens":2,"model":"m","input_tokens":1,"cache_creation_input_tokens":0,' \
        '"cache_read_input_tokens":3,"extra":1},{"model":"","input_tokens":0,"output_tokens":0,' \
        '"cache_creation_input_tokens":0,"cache_read_input_tokens":0}]'  # fmt: skip
    cost = '[{"value":1,"unit":"USD","source":null},{"unit":"EUR","value":0.5}]'
    await insert_big_trace(state.ch, tenant_id, "ex-b", 12, usage, cost)
    fast, plain = build_schema(), build_schema(raw_bulk_arguments=False, fast_objects=False)
    queries = [RECORDS_ALONE.replace("endTime", f"endTime {fields}") for fields in USAGE_AND_COST]
    for execution_id in ("ex-f", "ex-b"):
        expected = [await _execute(plain, state, tenant_id, q, True, execution_id) for q in queries]
        assert all(not e.errors for e in expected)
        nodes = [e["node"] for e in orjson.loads(orjson.dumps(expected[0].data))["execution"]["spans"]["edges"]]
        # several entries, and spans without usage or cost
        assert max(len(n["usage"]["byModel"]) for n in nodes if n["usage"]) >= 2 and max(map(len, nodes_c(nodes))) >= 2
        assert any(n["usage"] is None for n in nodes) and any(n["c"] == [] for n in nodes)
        with monkeypatch.context() as patched:
            for module in ("graph.usage", "graph.cost"):  # the objects' constructor: any object built fails
                patched.setattr(f"{module}._new", lambda cls: pytest.fail(f"{cls.__name__} built"))
            encoded = [await _execute(fast, state, tenant_id, q, True, execution_id) for q in queries]
        for query, got, want in zip(queries, encoded, expected, strict=True):
            assert not got.errors and orjson.dumps(got.data) == orjson.dumps(want.data), query
        unencoded = [await _execute(fast, state, tenant_id, q, False, execution_id) for q in queries]
        for got, want in zip(unencoded, expected, strict=True):
            assert not got.errors and orjson.dumps(got.data) == orjson.dumps(want.data)
    assert nodes_c(nodes)[0] == [{"__typename": "Cost", "v": 1.0, "unit": "USD", "source": None},
                                 {"__typename": "Cost", "v": 0.5, "unit": "EUR", "source": None}]  # fmt: skip


async def test_an_int_past_32_bits_takes_the_normal_path_and_its_error(tenant: Tenant, state: AppState) -> None:
    """Token counts are stored up to 2**31 - 1 each, so their sum can pass GraphQL's 32-bit Int: the plans do not
    pass such an int through, and the answer is the normal path's (usage null, the error at its field)."""
    spans = tree_spans("ex-big", 4, 2)
    spans[1]["usage"] = [{"model": "a", "inputTokens": 2_000_000_000, "outputTokens": 200_000_000}]
    await tenant.gql_data(LOG_SPANS, {"s": spans})
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    fast, plain = build_schema(), build_schema(raw_bulk_arguments=False, fast_objects=False)
    for query in (NODES_ALONE, QUERIES[0]):
        want = await _execute(plain, state, tenant_id, query, True, "ex-big")
        assert [(e.message, e.path) for e in want.errors or []] and "32-bit" in want.errors[0].message
        for early in (True, False):
            got = await _execute(fast, state, tenant_id, query, early, "ex-big")
            assert orjson.dumps(got.data) == orjson.dumps(want.data), (query, early)
            assert [(e.message, e.path) for e in got.errors or []] == [(e.message, e.path) for e in want.errors]


async def test_a_stored_text_that_does_not_parse_gets_the_normal_paths_error(tenant: Tenant, state: AppState) -> None:
    """Usage or cost texts another writer stored broken: the plans' failure hands the object to the normal path,
    so the data and the errors (message and path) are what they would have been without the plans."""
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    await insert_big_trace(state.ch, tenant_id, "ex-broken", 12, "not json", '[{"value": 1')
    fast, plain = build_schema(), build_schema(raw_bulk_arguments=False, fast_objects=False)
    erred = 0
    for query in (NODES_ALONE, QUERIES[0], *(RECORDS_ALONE.replace("endTime", f"endTime {f}") for f in USAGE_AND_COST)):
        want = await _execute(plain, state, tenant_id, query, True, "ex-broken")
        erred += bool(want.errors)  # a selection that does not read the texts does not fail
        for early in (True, False):
            got = await _execute(fast, state, tenant_id, query, early, "ex-broken")
            assert orjson.dumps(got.data) == orjson.dumps(want.data), (query, early)
            assert [(e.message, e.path) for e in got.errors or []] == [(e.message, e.path) for e in want.errors or []]
    assert erred >= 3


def nodes_c(nodes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The costs (under the alias c) of the spans that have any."""
    return [n["c"] for n in nodes if n["c"]]


def test_record_reads_read_what_span_in_trace_sets() -> None:
    """Span.FAST_RECORD_READS must give what Span.in_trace sets and its methods return (graph/span.py): every
    field it names, for a root and a child, a known and an unknown kind, a running and an ended span, with and
    without texts, error, usage and cost."""
    usage = '[{"model":"m","input_tokens":3,"output_tokens":4,"cache_creation_input_tokens":1,' \
        '"cache_read_input_tokens":2}]'  # fmt: skip
    texts = ('{"a":1}', '"o"', '{"message":"boom","code":7}', '{"k":[1]}', usage, '[{"value":0.5,"unit":"USD"}]')
    cases = (("", "LLM", _START + timedelta(microseconds=1_234_567), "2024-01-01T00:00:01.234567Z", texts),
             ("p", "custom", None, None, ("",) * 6))  # fmt: skip
    for parent, kind, end, end_iso, (inputs, outputs, error, attributes, used, cost) in cases:
        record = SpanRecord("e", "s", parent, "n", kind, "RUNNING" if end is None else "SUCCEEDED", _START, end,
                            inputs, outputs, error, attributes, used, cost, 3, 4, 1, 2, 1, _START,
                            "2024-01-01T00:00:00.000000Z", end_iso)  # fmt: skip
        span = Span.of(record, None)
        for name, read in Span.FAST_RECORD_READS.items():
            value = getattr(span, name)
            expected = value() if callable(value) else value
            assert orjson.dumps(eval(read, {**Span.FAST_RECORD_NAMES, "obj": record}), default=vars) == orjson.dumps(
                expected, default=vars
            ), name
    assert {"parent", "children", "events"}.isdisjoint(Span.FAST_RECORD_READS)  # they need the Span (its trace)


def test_usage_and_cost_reads_read_what_their_objects_hold() -> None:
    """Usage.FAST_RECORD_READS (of a span's record), ModelUsage's and Cost's (of a stored entry) must give what
    Usage.of_span, _model_usage and Cost.from_json set and their methods return, for every field they name."""
    entries = [{"model": "m", "input_tokens": 3, "output_tokens": 4, "cache_creation_input_tokens": 1,
                "cache_read_input_tokens": 2}, {"model": "", "input_tokens": 0, "output_tokens": 5,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}]  # fmt: skip
    used, cost = orjson.dumps(entries).decode(), '[{"value":0.5,"unit":"USD"},{"value":1,"unit":"EUR","source":"r"}]'
    record = SpanRecord("e", "s", "", "n", "LLM", "SUCCEEDED", _START, None, "", "", "", "", used, cost, 3, 9, 1, 2,
                        1, _START, "2024-01-01T00:00:00.000000Z", None)  # fmt: skip
    usage = Usage.of_span(used, 3, 9, 1, 2)
    assert usage is not None
    pairs = [(Usage, record, usage)] + [(ModelUsage, e, m) for e, m in zip(entries, usage.model_list(), strict=True)]
    pairs += [(Cost, e, c) for e, c in zip(orjson.loads(cost), Cost.from_json(cost), strict=True)]
    for cls, source, held in pairs:
        for name, read in cls.FAST_RECORD_READS.items():  # type: ignore[attr-defined]
            value = getattr(held, name)
            expected = value() if callable(value) else value
            got = eval(read, {**getattr(cls, "FAST_RECORD_NAMES", {}), "obj": source})
            assert orjson.dumps(got, default=vars) == orjson.dumps(expected, default=vars), (cls, name)
    assert eval(Usage.FAST_RECORD_RECORDS["by_model"], {**Usage.FAST_RECORD_NAMES, "obj": record}) == entries
    span_records = {name: eval(read, {**Span.FAST_RECORD_NAMES, "obj": record})
                    for name, read in Span.FAST_RECORD_RECORDS.items()}  # fmt: skip
    assert span_records == {"usage": record, "cost": orjson.loads(cost)}


def test_items_are_encoded_in_chunks_that_write_the_list() -> None:
    """encoded_items: whatever the count (none, a partial chunk, whole chunks and one more), the chunks write
    the list of completed items byte for byte, and no chunk holds more than CHUNK items."""
    size = fast_execution.CHUNK
    for count in (0, 1, size - 1, size, size + 1, 3 * size + 1):
        items = [{"i": i, "s": "é" * (i % 3)} for i in range(count)]
        chunks = fast_execution.encoded_items(lambda item: {"node": item}, iter(items))
        assert orjson.dumps(chunks) == orjson.dumps([{"node": item} for item in items]), count
        assert len(chunks) == -(-count // size) and all(isinstance(c, orjson.Fragment) for c in chunks)


def test_objects_are_encoded_in_chunks_that_write_the_list() -> None:
    """encoded_objects (a plan's list of objects, encoded early) writes what encoded_items writes with the item's
    null check of a plan: a None item is null where the list allows it, and hands over to the normal path
    (_Fallback) where it does not."""
    size = fast_execution.CHUNK
    for count in (0, 1, size, 2 * size + 1):
        items: list[dict[str, int] | None] = [None if i % 5 == 3 else {"i": i} for i in range(count)]
        chunks = fast_execution.encoded_objects(lambda item: {"node": item}, False, iter(items))
        expected = [None if item is None else {"node": item} for item in items]
        assert orjson.dumps(chunks) == orjson.dumps(expected), count
        assert len(chunks) == -(-count // size)
        # with a key: each item is an edge's node, written under the key (a null node too)
        edges = fast_execution.encoded_objects(lambda item: {"i2": item["i"] * 2}, False, iter(items), "n")
        assert orjson.loads(orjson.dumps(edges)) == [{"n": None if it is None else {"i2": it["i"] * 2}} for it in items]
    with pytest.raises(fast_execution._Fallback):
        fast_execution.encoded_objects(lambda item: {"node": item}, True, [{"i": 1}, None])
    with pytest.raises(fast_execution._Fallback):
        fast_execution.encoded_objects(lambda item: item, True, [{"i": 1}, None], "n")


async def test_node_implementers_complete_on_the_fast_path(tenant: Tenant, state: AppState) -> None:
    """Span implements Node, which gives it an `is_type_of`: a trace's spans must still take the fast path. The
    plan answers that check itself for a span of Span's own class, and leaves anything else (an object of
    another class, or one `strawberry.cast` to another type) to the check, which refuses it: the normal path
    then decides, as it would have (Strawberry's check also passes any Node, e.g. an Execution)."""
    await log_trace(tenant, "ex-f", count=5, depth=2)
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    fast_execution._SHARED_PLANS.clear()
    assert (await _run(build_schema(), state, tenant_id, QUERIES[0]))["errors"] == []
    plans = {key[0]: plan for key, (_, plan) in fast_execution._SHARED_PLANS.items()}
    assert plans.get("Span") is not None and plans.get("SpanEdge") is not None, plans
    fast_execution._SHARED_PLANS.clear()
    flat = "query($id: ID!) { execution(id: $id) { spans(first: 5) { edges { node { id name status } } } } }"
    assert (await _run(build_schema(), state, tenant_id, flat))["errors"] == []
    span_plan = next(plan for key, (_, plan) in fast_execution._SHARED_PLANS.items() if key[0] == "Span")
    assert span_plan is not None
    record = SpanRecord("ex-f", "s9", "", "n", "LLM", "SUCCEEDED", _START, _START, *("",) * 6, 0, 0, 0, 0, 1, _START,
                        "2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:00.000000Z")  # fmt: skip
    assert span_plan(Span.of(record, None))["id"] == "s9"
    assert span_plan(strawberry.cast(Span, Span.of(record, None)))["id"] == "s9"
    for other in (strawberry.cast(Execution, Span.of(record, None)), Cost(value=1.0, unit="USD")):
        with pytest.raises(fast_execution._Fallback):
            span_plan(other)


async def test_raw_bulk_arguments_store_what_the_strawberry_path_stores(tenant: Tenant, state: AppState) -> None:
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    stores = Stores(state.ch, state.pg, state.writer, state.settings.max_batch_items)
    context = Context(stores, Principal("k", tenant_id, "t", ("admin",)))
    mutation = """mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count eventIds } }"""
    events = [{"id": f"{prefix}-1", "name": "tool.execution.initiated", "executionId": f"{prefix}-ex", "spanId": "sp",
               "timestamp": "2024-01-01T00:00:00Z", "actor": {"type": "agent", "id": "a"}, "correlationId": "c",
               "payload": {"name": "lookup", "inputs": {"q": 1}, "usage": {"model": "m", "inputTokens": 3}}}
              for prefix in ("raw", "plain")]  # fmt: skip
    for schema, event in ((build_schema(), events[0]), (build_schema(raw_bulk_arguments=False), events[1])):
        result = await schema.execute(mutation, variable_values={"e": [event]}, context_value=context)
        assert result.errors is None and result.data == {"ingestEvents": {"count": 1, "eventIds": [event["id"]]}}
    read = """query($id: ID!) { event(id: $id) { name timestamp correlationId payload actor { id } span { name
        kind status usage { inputTokens } } } }"""
    raw = (await tenant.gql_data(read, {"id": "raw-1"}))["event"]
    plain = (await tenant.gql_data(read, {"id": "plain-1"}))["event"]
    assert raw == plain and raw["span"]["name"] == "lookup" and raw["span"]["usage"] == {"inputTokens": 3}


def test_span_of_sets_what_the_dataclass_init_sets() -> None:
    """Span.of fills the instance dict itself (graph/span.py): a field added to Span must be added there too."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    texts = ("", "", "", "", "", "")
    record = SpanRecord("e", "s", "", "n", "LLM", "SUCCEEDED", start, start + timedelta(seconds=1), *texts, 0, 0, 0, 0,
                        1, start, "2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:01.000000Z")  # fmt: skip
    fast = Span.of(record, None)
    init = Span(**{k: v for k, v in vars(fast).items() if k in {f.name for f in dataclasses.fields(Span) if f.init}})
    assert vars(fast) == vars(init) and set(vars(fast)) == {f.name for f in dataclasses.fields(Span) if f.init}
    assert (fast.parent_id, fast.duration_ms()) == (None, 1000.0)  # computed when selected, not by Span.of


def test_costs_and_usage_set_what_the_dataclass_init_sets() -> None:
    """Cost.from_json and Usage.of_span / model_list fill the instance dicts themselves (graph/cost.py,
    graph/usage.py): a field added to Cost, Usage or ModelUsage must be added there too."""
    entry = {"model": "m", "input_tokens": 3, "output_tokens": 4, "cache_creation_input_tokens": 1,
             "cache_read_input_tokens": 2}  # fmt: skip
    usage = Usage.of_span(orjson.dumps([entry]).decode(), 3, 4, 1, 2)
    assert usage is not None and Usage.of_span("", 1, 1, 0, 0) is None
    model = usage.model_list()[0]
    [cost] = Cost.from_json('[{"value": 0.5, "unit": "USD", "source": "reported"}]')
    built = (
        (cost, Cost(value=0.5, unit="USD", source="reported")),
        (model, ModelUsage(model="m", input_tokens=3, output_tokens=4, cache_creation_input_tokens=1,
                           cache_read_input_tokens=2)),
        (usage, Usage(input_tokens=3, output_tokens=4, cache_creation_input_tokens=1, cache_read_input_tokens=2,
                      models=[model])),
    )  # fmt: skip
    for fast, init in built:
        assert vars(fast) == vars(init) and set(vars(fast)) == {f.name for f in dataclasses.fields(init) if f.init}
    assert Cost.from_json("") == [] and usage.total_tokens() == 7 and model.total_tokens() == 7


def test_edges_set_what_the_dataclass_init_sets() -> None:
    """Edges builds each Edge's instance dict itself (graph/connection.py): a field added to Edge must be added
    there too."""
    page = Page(["a", "b"], lambda item: ("ORDER", item, item), False, _no_count)
    built = list(Edges(page, str.upper))
    init = [Edge(node=item.upper(), _page=page, _item=item) for item in ("a", "b")]
    assert [vars(e) for e in built] == [vars(e) for e in init] == [vars(Edges(page, str.upper)[i]) for i in (0, 1)]
    assert set(vars(built[0])) == {f.name for f in dataclasses.fields(Edge) if f.init}
    assert built[1].cursor() == init[1].cursor()


async def _no_count() -> int:
    return 0


def test_pass_through_scalars_serialize_their_values_unchanged() -> None:
    """The plans skip the serializer of a scalar listed in _PASS_THROUGH when the value is of its class: that
    must be what the serializer would have returned (DateTime: a time ClickHouse already formatted)."""
    samples = {str: "2024-01-01T00:00:00.000000Z", bool: True, int: 7, float: 0.5}
    types = build_schema()._schema.type_map
    for name, cls in fast_execution._PASS_THROUGH.items():
        value = samples[cls]
        assert types[name].serialize(value) is value, name  # type: ignore[attr-defined]
