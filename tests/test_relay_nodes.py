"""Relay refetch: every Node type comes back by its `nodeId`, only to its own tenant, in the order asked."""

from __future__ import annotations

import base64

import orjson

from tests.conftest import Tenant
from tests.traces import log_events, log_trace

NODE = """query($id: ID!) { node(id: $id) { __typename id nodeId
  ... on Execution { spanCount } ... on Span { executionId name } ... on Event { name }
  ... on Actor { type } ... on Resource { type } } }"""
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id nodeId } }"


def global_id(*parts: str) -> str:
    """The documented encoding, computed independently: base64url (unpadded) of a JSON array."""
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).decode().rstrip("=")


async def _seed(tenant: Tenant) -> list[str]:
    await log_trace(tenant, "ex:1", count=4, depth=2)  # ':' in an id must not confuse the encoding
    return await log_events(tenant, "ex:1", count=3, span_count=4)


async def test_every_node_type_refetches_by_its_node_id(tenant: Tenant) -> None:
    event_ids = await _seed(tenant)
    data = await tenant.gql_data("""{ execution(id: "ex:1") { nodeId id
        spans(first: 2) { edges { node { nodeId id } } } events(first: 10) { edges { node { nodeId id
        actor { nodeId id } resource { nodeId id } } } } } }""")
    ex = data["execution"]
    span = ex["spans"]["edges"][1]["node"]
    event = next(e["node"] for e in ex["events"]["edges"] if e["node"]["actor"])
    expected = {
        ex["nodeId"]: ("Execution", "ex:1", global_id("Execution", "ex:1")),
        span["nodeId"]: ("Span", "s1", global_id("Span", "ex:1", "s1")),
        event["nodeId"]: ("Event", event["id"], global_id("Event", "graphql", event["id"])),
        event["actor"]["nodeId"]: ("Actor", event["actor"]["id"], global_id("Actor", "agent", event["actor"]["id"])),
        event["resource"]["nodeId"]: (
            "Resource", event["resource"]["id"], global_id("Resource", "artifact", event["resource"]["id"])
        ),
    }  # fmt: skip
    assert event["id"] in event_ids
    # an Event's id before it carried the format still reads (the newest event with that id)
    legacy = (await tenant.gql_data(NODE, {"id": global_id("Event", event["id"])}))["node"]
    assert (legacy["id"], legacy["nodeId"]) == (event["id"], event["nodeId"])
    for node_id, (typename, own_id, stable) in expected.items():
        assert node_id == stable  # deterministic: the same id after a restart, on any replica
        node = (await tenant.gql_data(NODE, {"id": node_id}))["node"]
        assert (node["__typename"], node["id"], node["nodeId"]) == (typename, own_id, node_id)
    span_node = (await tenant.gql_data(NODE, {"id": span["nodeId"]}))["node"]
    assert (span_node["executionId"], span_node["name"]) == ("ex:1", "step 1")
    got = await tenant.gql_data(NODES, {"ids": [*expected, global_id("Span", "ex:1", "nope"), ex["nodeId"]]})
    assert [n and n["__typename"] for n in got["nodes"]] == [
        "Execution", "Span", "Event", "Actor", "Resource", None, "Execution"
    ]  # fmt: skip


async def test_another_tenants_ids_read_as_null(tenant: Tenant, other_tenant: Tenant) -> None:
    await _seed(tenant)
    ids = [global_id("Execution", "ex:1"), global_id("Span", "ex:1", "s0"), global_id("Actor", "agent", "agent-0"),
           global_id("Resource", "artifact", "art-0")]  # fmt: skip
    mine = (await tenant.gql_data(NODES, {"ids": ids}))["nodes"]
    assert all(n is not None for n in mine), mine
    assert (await other_tenant.gql_data(NODES, {"ids": ids}))["nodes"] == [None] * len(ids)
    assert (await other_tenant.gql_data(NODE, {"id": ids[0]}))["node"] is None


async def test_malformed_ids_are_bad_user_input(tenant: Tenant) -> None:
    bad = [
        "not base64 !",
        base64.urlsafe_b64encode(b"not json").decode(),
        global_id("Tenant", "x"),  # a type that is no Node
        global_id("Span", "only-one-part"),
        base64.urlsafe_b64encode(orjson.dumps(["Execution", 5])).decode(),
    ]
    for node_id in bad:
        for query, variables in ((NODE, {"id": node_id}), (NODES, {"ids": [global_id("Execution", "x"), node_id]})):
            body = await tenant.gql(query, variables)
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (node_id, body)
            assert "invalid node id" in body["errors"][0]["message"]
    too_many = [global_id("Execution", str(i)) for i in range(101)]
    body = await tenant.gql(NODES, {"ids": too_many})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "ids"}
