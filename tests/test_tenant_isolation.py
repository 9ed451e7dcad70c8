"""Walks every root query field and every REST read path with a second tenant's valid key against the
first tenant's ids, and sees nothing. Fields and paths are found in the schema and the app, so new ones
are walked without anyone adding them here; an argument this test cannot fill fails it loudly."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from graph.schema import schema
from resolvers import node_ids
from resolvers.live import decode_cursor
from tests.conftest import Tenant
from tests.traces import log_events, log_trace

EXECUTION, SPAN, EVENT_ID, CORRELATION = "iso-ex", "s1", "iso-audit-1", "iso-corr"
ACTOR, RESOURCE = ("user", "iso-user"), ("artifact", "iso-art")

# by argument name (and, for type/id pairs, by root field): the first tenant's values
ARGS: dict[str, Any] = {
    "executionId": EXECUTION, "spanId": SPAN, "correlationId": CORRELATION,
    "resourceType": RESOURCE[0], "resourceId": RESOURCE[1], "source": "audit",
}  # fmt: skip
PAIRS = {"actor": ACTOR, "resource": RESOURCE}
IDS = {"execution": EXECUTION, "event": EVENT_ID, "node": node_ids.encode("Execution", EXECUTION)}
NODE_IDS = [node_ids.encode("Span", EXECUTION, SPAN), node_ids.encode("Event", "audit", EVENT_ID),
            node_ids.encode("Event", EVENT_ID),
            node_ids.encode("Actor", *ACTOR), node_ids.encode("Resource", *RESOURCE)]  # fmt: skip
OPTIONAL_SKIPPED = {"filter", "first", "after", "from", "to", "last", "before", "orderBy"}
# Root fields whose required arguments are not the first tenant's ids: their arguments (enums unquoted),
# and a selection without the arguments they echo back.
ROOT_ARGS = {
    "metrics": 'from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z", bucket: HOUR, groupBy: STATUS',
    "searchSpans": 'search: "STEP"',
    "annotationScores": 'name: "iso-quality", from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z", bucket: HOUR',
}
SELECTIONS = {"metrics": "series { key points { count inputTokens } }", "annotationScores": "points { count average }"}


async def _seed(tenant: Tenant) -> None:
    await log_trace(tenant, EXECUTION, count=4, depth=2)
    await log_events(tenant, EXECUTION, count=3, span_count=4)
    audit = {"id": EVENT_ID, "eventType": "iso.happened", "actorType": ACTOR[0], "actorId": ACTOR[1],
             "resourceType": RESOURCE[0], "resourceId": RESOURCE[1], "correlationId": CORRELATION}  # fmt: skip
    assert (await tenant.http.post("/api/v1/events", json=audit)).status_code == 200
    actual = {"output_key": "iso-quality", "quality": 0.5, "timestamp": 1709253000}  # 2024-03-01T00:30Z
    actuals = {"execution_id": EXECUTION, "actuals": [actual]}
    assert (await tenant.http.post("/v1/submit-workflow-execution-actuals", json=actuals)).status_code == 200
    await tenant.gql_data('mutation { deleteEvents(filter: {names: ["iso.never"]}) { id } }')  # for `deletions`


def _selection(field_type: Any, depth: int = 0) -> str:
    named = get_named_type(field_type)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType)
    parts = []
    for name, field in named.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            parts.append(name)
        elif depth < 2:
            parts.append(f"{name} {{ {_selection(field.type, depth + 1) or '__typename'} }}")
    return " ".join(parts) or "__typename"


def _arguments(root: str, field: GraphQLField) -> str:
    if root in ROOT_ARGS:
        return f"({ROOT_ARGS[root]})"
    values: dict[str, Any] = {}
    for name, arg in field.args.items():
        if root in PAIRS and name in ("type", "id"):
            values[name] = PAIRS[root][0 if name == "type" else 1]
        elif name == "id" and root in IDS:
            values[name] = IDS[root]
        elif name in ARGS:
            values[name] = ARGS[name]
        elif name == "ids" and root == "nodes":
            values[name] = NODE_IDS
        elif name in OPTIONAL_SKIPPED and not isinstance(arg.type, GraphQLNonNull):
            continue
        else:
            raise AssertionError(f"the isolation walk cannot fill argument {name!r} of Query.{root}: add it to ARGS")
    return "(" + ", ".join(f"{k}: {orjson.dumps(v).decode()}" for k, v in values.items()) + ")" if values else ""


def _is_empty(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_is_empty(v) for k, v in value.items() if k != "__typename")
    if isinstance(value, list):
        return all(_is_empty(v) for v in value)
    return value in (None, 0, False, "", [])


async def test_every_query_field_sees_nothing_of_another_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    await _seed(tenant)
    walked = []
    for root, field in schema._schema.query_type.fields.items():  # type: ignore[union-attr]
        selection = SELECTIONS.get(root) or _selection(field.type)
        query = f"{{ {root}{_arguments(root, field)}{f' {{ {selection} }}' if selection else ''} }}"
        mine = await tenant.gql_data(query)
        assert not _is_empty(mine[root]), f"Query.{root} found nothing even for its own tenant: {query}"
        theirs = await other_tenant.gql_data(query)
        if root == "liveCursor":  # a position, never empty: another tenant's traffic must not move it
            theirs[root] = decode_cursor(theirs[root])[0]
        assert _is_empty(theirs[root]), f"Query.{root} leaked across tenants: {theirs}"
        walked.append(root)
    assert {"execution", "executions", "span", "event", "events", "actor", "resource", "node", "nodes"} <= set(walked)


def _body(response: httpx.Response) -> dict[str, Any]:
    """A JSON body, or the lines of an NDJSON one (the export) as {"lines": [...]}."""
    if response.headers.get("content-type", "").startswith("application/x-ndjson"):
        return {"lines": [orjson.loads(line) for line in response.content.splitlines() if line]}
    body: dict[str, Any] = response.json()
    return body


async def test_every_rest_read_path_sees_nothing_of_another_tenant(
    tenant: Tenant, other_tenant: Tenant, app: Any
) -> None:
    await _seed(tenant)
    params = {"execution_id": EXECUTION, "event_id": EVENT_ID, "correlation_id": CORRELATION,
              "resource_type": RESOURCE[0], "resource_id": RESOURCE[1]}  # fmt: skip
    walked = []
    for path, operations in app.openapi()["paths"].items():  # every REST path the app serves
        if "get" not in operations or path in ("/healthz", "/readyz", "/metrics", "/graphql"):
            continue
        url = path.format(**params)
        mine = await tenant.http.get(url)
        assert mine.status_code == 200 and not _is_empty({k: v for k, v in _body(mine).items() if k != "tenantId"}), url
        theirs = await other_tenant.http.get(url)
        assert theirs.status_code == 404 or _is_empty(
            {k: v for k, v in _body(theirs).items() if k not in ("limit", "offset")}
        ), (url, theirs.text)
        walked.append(path)
    assert len(walked) >= 7, walked
