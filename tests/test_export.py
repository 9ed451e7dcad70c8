"""`GET /api/v1/export`: what it streams is what GraphQL reads for the same filter, row by row; another
tenant's rows never appear; bad parameters get 422 naming them; OTLP re-imports; the body streams."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

import resolvers.export
from server.export_routes import CHUNK_BYTES
from tests.conftest import Tenant
from tests.otel_traces import emit_agent_trace
from tests.test_otlp import Collect
from tests.traces import INGEST, LOG_SPANS

T0 = datetime(2024, 5, 1, tzinfo=UTC)
EVENT_FIELDS = ("id name timestamp source executionId spanId correlationId causationId outcome payload "
                "actor { type id } resource { type id }")  # fmt: skip
USAGE = ("usage { inputTokens outputTokens cacheCreationInputTokens cacheReadInputTokens totalTokens "
         "byModel { model inputTokens outputTokens cacheCreationInputTokens cacheReadInputTokens totalTokens } }")
ERROR = "error { message code stacktrace rawData }"
SPAN_FIELDS = (f"id executionId parentId name kind kindName status startTime endTime durationMs inputs outputs "
               f"{ERROR} attributes {USAGE} cost {{ value unit source }}")  # fmt: skip
EXECUTION_FIELDS = (f"id name kind kindName status startTime endTime durationMs inputs outputs {ERROR} metadata "
                    f"sessionId spanCount failed {USAGE} cost {{ value unit source }} actor {{ type id }}")
EVENTS_QUERY = f"""query($f: EventFilter, $after: String) {{ events(filter: $f, first: 100, after: $after,
  orderBy: {{field: TIMESTAMP, direction: ASC}}) {{ edges {{ node {{ {EVENT_FIELDS} }} }}
  pageInfo {{ hasNextPage endCursor }} }} }}"""
EXECUTIONS_QUERY = f"""query($f: ExecutionFilter, $after: String) {{ executions(filter: $f, first: 20, after: $after)
  {{ edges {{ node {{ {EXECUTION_FIELDS} spans(first: 10) {{ edges {{ node {{ {SPAN_FIELDS} }} }} }} }} }}
  pageInfo {{ hasNextPage endCursor }} }} }}"""


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def lines(body: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in body.splitlines() if line]


async def export(tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    response = await tenant.http.get("/api/v1/export", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return lines(response.content)


async def graphql_all(tenant: Tenant, query: str, field: str, filter_: dict[str, Any]) -> list[dict[str, Any]]:
    nodes, after = [], None
    while True:
        data = (await tenant.gql_data(query, {"f": filter_, "after": after}))[field]
        nodes += [e["node"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            return nodes
        after = data["pageInfo"]["endCursor"]


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pages of 7 rows, so a small data set walks many pages and crosses their boundaries."""
    monkeypatch.setattr(resolvers.export, "PAGE_ROWS", 7)
    yield


async def seed(tenant: Tenant, tag: str) -> None:
    """Executions of several names and statuses (one built from lifecycle events in pieces), and audit events."""
    spans: list[dict[str, Any]] = []
    for n in range(12):
        execution = f"{tag}-run-{n}"
        name, failed = ("triage" if n % 2 else "billing"), n % 3 == 0
        for i in range(n % 4 + 1):
            span: dict[str, Any] = {
                "id": f"s{i}", "executionId": execution, "parentId": None if i == 0 else "s0",
                "name": name if i == 0 else f"step {i}", "kind": "llm" if i % 2 else "chain",
                "startTime": at(n * 60 + i), "endTime": at(n * 60 + i + 0.5), "inputs": {"n": n, "i": i},
                "outputs": "done", "attributes": {"tag": tag, "i": i},
            }  # fmt: skip
            if i == 1:
                span["usage"] = {"model": "gpt-4o", "inputTokens": 10 + n, "outputTokens": 3}
                span["cost"] = {"value": 0.25, "unit": "USD"}
            if failed and i == 0:
                span["status"], span["error"] = "FAILED", {"message": "boom", "code": "E1"}
            spans.append(span)
    await tenant.gql_data(LOG_SPANS, {"s": spans})
    events: list[dict[str, Any]] = [
        {"name": "order.placed" if i % 3 else "order.cancelled", "timestamp": at(i * 37),
         "executionId": f"{tag}-run-{i % 12}", "actor": {"type": "user", "id": f"u{i % 4}"},
         "resource": {"type": "artifact", "id": f"a{i % 5}"}, "correlationId": f"c{i % 6}",
         "payload": {"i": i, "tag": tag}}
        for i in range(40)
    ]  # fmt: skip
    # one span in pieces: started, then finished later
    events += [
        {"name": "node.execution.initiated", "executionId": f"{tag}-run-1", "spanId": "late", "parentSpanId": "s0",
         "timestamp": at(61), "actor": {"type": "agent", "id": "bot"}, "payload": {"inputs": {"q": 1}}},
        {"name": "node.execution.fulfilled", "executionId": f"{tag}-run-1", "spanId": "late",
         "timestamp": at(62), "payload": {"outputs": {"a": 2}}},
    ]  # fmt: skip
    await tenant.gql_data(INGEST, {"e": events})


def without_type(rows: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    assert all(r["type"] == kind for r in rows)
    return [{k: v for k, v in r.items() if k != "type"} for r in rows]


@pytest.mark.parametrize(
    ("params", "graphql_filter"),
    [
        ({}, {}),
        ({"name": "order.placed", "from": at(300), "to": at(1200)},
         {"names": ["order.placed"], "from": at(300), "to": at(1200)}),
        ({"actor_type": "user", "actor_id": "u1", "resource_type": "artifact", "resource_id": "a3"},
         {"actorType": "user", "actorId": "u1", "resourceType": "artifact", "resourceId": "a3"}),
        ({"correlation_id": "c2"}, {"correlationId": "c2"}),
    ],
)  # fmt: skip
async def test_events_match_graphql_row_by_row(
    tenant: Tenant, other_tenant: Tenant, small_pages: None, params: dict[str, Any], graphql_filter: dict[str, Any]
) -> None:
    await seed(tenant, "mine")
    await seed(other_tenant, "theirs")
    exported = without_type(await export(tenant, kind="events", **params), "event")
    read = await graphql_all(tenant, EVENTS_QUERY, "events", graphql_filter)
    assert len(read) > 0
    assert sorted(exported, key=lambda r: r["id"]) == sorted(read, key=lambda r: r["id"])
    assert [r["id"] for r in exported] == sorted(r["id"] for r in exported)  # id order, no repeats
    assert all((r["executionId"] or "mine-").startswith("mine-") for r in exported)


@pytest.mark.parametrize(
    ("params", "graphql_filter"),
    [
        ({}, {}),
        ({"status": "FAILED"}, {"statuses": ["FAILED"]}),
        ({"name": "triage", "from": at(120), "to": at(600)}, {"name": "triage", "from": at(120), "to": at(600)}),
        ({"actor_type": "agent", "actor_id": "bot"}, {"actorType": "agent", "actorId": "bot"}),
        ({"session_id": "mine-run-5"}, {"sessionId": "mine-run-5"}),
    ],
)  # fmt: skip
async def test_executions_and_spans_match_graphql_row_by_row(
    tenant: Tenant, other_tenant: Tenant, small_pages: None, params: dict[str, Any], graphql_filter: dict[str, Any]
) -> None:
    await seed(tenant, "mine")
    await seed(other_tenant, "theirs")
    read = await graphql_all(tenant, EXECUTIONS_QUERY, "executions", graphql_filter)
    assert len(read) > 0
    read_spans = [e["node"] for x in read for e in x.pop("spans")["edges"]]
    exported = await export(tenant, kind="executions,spans", **params)
    executions = without_type([r for r in exported if r["type"] == "execution"], "execution")
    spans = without_type([r for r in exported if r["type"] == "span"], "span")
    assert sorted(executions, key=lambda r: r["id"]) == sorted(read, key=lambda r: r["id"])
    assert sorted(spans, key=lambda s: (s["executionId"], s["id"])) == sorted(
        read_spans, key=lambda s: (s["executionId"], s["id"])
    )
    # each execution comes before its own spans, in id order
    order = [(r["type"], r.get("executionId", r["id"])) for r in exported]
    assert [k for t, k in order if t == "execution"] == sorted(r["id"] for r in executions)
    seen: set[str] = set()
    for row_type, execution_id in order:
        if row_type == "execution":
            seen.add(execution_id)
        else:
            assert execution_id in seen
    assert all(s["executionId"].startswith("mine-") for s in spans)
    # kind=spans alone streams the same spans
    assert without_type(await export(tenant, kind="spans", **params), "span") == spans


async def test_merged_span_from_pieces_is_exported_in_its_latest_state(tenant: Tenant) -> None:
    await seed(tenant, "mine")
    spans = await export(tenant, kind="spans", execution_id="mine-run-1")
    late = next(s for s in spans if s["id"] == "late")
    assert (late["status"], late["inputs"], late["outputs"]) == ("SUCCEEDED", {"q": 1}, {"a": 2})
    assert (late["startTime"], late["parentId"]) == ("2024-05-01T00:01:01.000000Z", "s0")


async def test_kind_all_is_executions_with_their_spans_then_events(tenant: Tenant, other_tenant: Tenant) -> None:
    await seed(tenant, "mine")
    await seed(other_tenant, "theirs")
    rows = await export(tenant)
    types = [r["type"] for r in rows]
    first_event = types.index("event")
    assert set(types[:first_event]) == {"execution", "span"} and set(types[first_event:]) == {"event"}
    # 42 events sent, and the 30 `span.logged` events logSpans records
    assert types.count("execution") == 12 and types.count("span") == 31 and types.count("event") == 72
    assert not any("theirs" in orjson.dumps(r).decode() for r in rows)
    assert await export(tenant, execution_id="no-such-run") == []


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"kind": "traces"}, ["query", "kind"]),
        ({"format": "csv"}, ["query", "format"]),
        ({"from": "yesterday"}, ["query", "from"]),
        ({"status": "DONE", "kind": "spans"}, ["query", "status", 0]),
        ({"statuses": "FAILED"}, ["query", "statuses"]),  # a typo must not export everything
        ({"status": "FAILED"}, ["query", "status"]),  # kind=all includes events, which have no status
        ({"resource_type": "artifact", "kind": "spans"}, ["query", "resource_type"]),
        ({"format": "otlp", "kind": "events"}, ["query", "kind"]),
        ({"format": "otlp", "spans_per_line": "0"}, ["query", "spans_per_line"]),
        ({"spans_per_line": "10"}, ["query", "spans_per_line"]),
        ({"execution_id": "a", "session_id": "b"}, ["query", "session_id"]),
    ],
)  # fmt: skip
async def test_bad_parameters_get_422_naming_them(tenant: Tenant, params: dict[str, str], loc: list[Any]) -> None:
    response = await tenant.http.get("/api/v1/export", params=params)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"] == loc
    assert {"loc", "msg", "type"} <= set(detail[0]) and detail[0]["msg"]


async def test_compressed_when_asked(tenant: Tenant) -> None:
    await seed(tenant, "mine")
    plain = await export(tenant, kind="events")
    response = await tenant.http.get("/api/v1/export", params={"kind": "events"}, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip" and lines(response.content) == plain


async def test_needs_a_key_and_accepts_the_cookie(tenant: Tenant, anon: httpx.AsyncClient) -> None:
    await seed(tenant, "mine")
    assert (await anon.get("/api/v1/export")).status_code == 401
    response = await anon.get("/api/v1/export", params={"kind": "events"}, cookies={"vai_token": tenant.key})
    assert response.status_code == 200 and len(lines(response.content)) == 72


async def test_otlp_export_reimports_into_another_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    collect = Collect()
    trace_id = emit_agent_trace(collect)
    body = encode_spans(collect.spans).SerializeToString()
    posted = await tenant.http.post("/v1/traces", content=body, headers={"Content-Type": "application/x-protobuf"})
    assert posted.status_code == 200
    await seed(tenant, "mine")  # canonical spans with ids that are not OTLP ids
    response = await tenant.http.get("/api/v1/export", params={"format": "otlp", "spans_per_line": 3})
    assert response.status_code == 200
    documents = lines(response.content)
    assert all(sum(len(s["spans"]) for r in d["resourceSpans"] for s in r["scopeSpans"]) <= 3 for d in documents)
    for document in documents:
        reimported = await other_tenant.http.post("/v1/traces", content=orjson.dumps(document),
                                                  headers={"Content-Type": "application/json"})  # fmt: skip
        assert reimported.status_code == 200 and reimported.json() == {}, reimported.text

    (before,) = await graphql_all(tenant, EXECUTIONS_QUERY, "executions", {"sessionId": trace_id})
    (after,) = await graphql_all(other_tenant, EXECUTIONS_QUERY, "executions", {"sessionId": trace_id})
    spans_before = {e["node"]["id"]: e["node"] for e in before.pop("spans")["edges"]}
    spans_after = {e["node"]["id"]: e["node"] for e in after.pop("spans")["edges"]}
    assert before == after  # the execution summary: name, status, times, usage, cost, ...
    assert spans_before.keys() == spans_after.keys() and len(spans_before) == 5
    for span_id, span in spans_before.items():
        copied = spans_after[span_id]
        # the exporter restates the usage's model as llm.model_name, which the importer keeps as an attribute
        copied["attributes"].pop("llm.model_name", None)
        span["attributes"].pop("llm.model_name", None)
        assert copied == span

    # spans whose ids are not OTLP ids get hashed ones; the tree and the fields survive, the ids are kept
    mine = [s for s in await export(other_tenant, kind="spans") if s["attributes"].get("tracehouse.execution_id")]
    originals = {(s["executionId"], s["id"]): s for s in await export(tenant, kind="spans")}
    assert len(mine) == len([k for k in originals if k[0].startswith("mine-")])
    by_new_id = {(s["executionId"], s["id"]): s for s in mine}
    for copied in mine:
        kept = copied["attributes"]
        source = originals[(kept["tracehouse.execution_id"], kept["tracehouse.span_id"])]
        for field in ("name", "status", "startTime", "endTime", "inputs", "outputs", "error", "usage", "cost"):
            if field == "cost":
                assert [c["value"] for c in copied["cost"]] == [c["value"] for c in source["cost"]]
            elif field == "error" and source["error"]:
                assert copied["error"]["message"] == source["error"]["message"]
                assert copied["error"]["code"] == source["error"]["code"]
            else:
                assert copied[field] == source[field], field
        assert copied["kindName"] == source["kindName"]
        parent = by_new_id.get((copied["executionId"], copied["parentId"])) if copied["parentId"] else None
        assert (parent["attributes"]["tracehouse.span_id"] if parent else None) == source["parentId"]


async def test_response_streams_in_many_chunks(app: Any, tenant: Tenant) -> None:
    """Driven at the ASGI level: the body leaves in several messages, the first long before the last."""
    events = [{"name": "bulk", "timestamp": at(i), "payload": {"i": i}} for i in range(1_800)]
    await tenant.gql_data(INGEST, {"e": events})
    messages: list[dict[str, Any]] = []
    requested = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if requested.is_set():  # as a server does: nothing more until the client leaves (it stays)
            await asyncio.Event().wait()
        requested.set()
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/api/v1/export", "raw_path": b"/api/v1/export", "query_string": b"kind=events&name=bulk",
        "headers": [(b"host", b"test"), (b"x-api-key", tenant.key.encode())], "client": ("127.0.0.1", 1),
        "server": ("test", 80), "root_path": "", "app": app,
    }  # fmt: skip
    await app(scope, receive, send)
    assert messages[0]["status"] == 200
    bodies = [m for m in messages if m["type"] == "http.response.body" and m.get("body")]
    assert len(bodies) >= 4  # ~250 bytes a line: 1,800 lines are ~450 KB, sent in chunks of ~64 KiB
    assert all(len(m["body"]) < CHUNK_BYTES + 1024 and m["body"].endswith(b"\n") for m in bodies)
    assert len(lines(b"".join(m["body"] for m in bodies))) == 1_800

