"""Closed sets are enums, and no stored value breaks them: a kind no enum value names reads as OTHER."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.traces import LOG_SPANS, T0


async def test_unknown_kinds_read_as_other_with_the_stored_name(tenant: Tenant) -> None:
    spans = [
        {"id": "r", "executionId": "ex-k", "name": "root", "kind": "my_pipeline", "startTime": T0.isoformat()},
        {"id": "c", "executionId": "ex-k", "parentId": "r", "name": "call", "kind": "llm", "status": "failed",
         "startTime": T0.isoformat()},
    ]  # fmt: skip
    await tenant.gql_data(LOG_SPANS, {"s": spans})
    data = await tenant.gql_data("""{ execution(id: "ex-k") { kind kindName status
        spans { edges { node { id kind kindName status } } } } }""")
    ex = data["execution"]
    assert (ex["kind"], ex["kindName"], ex["status"]) == ("OTHER", "MY_PIPELINE", "RUNNING")
    assert [e["node"] for e in ex["spans"]["edges"]] == [  # the same start: ties go by id
        {"id": "c", "kind": "LLM", "kindName": "LLM", "status": "FAILED"},
        {"id": "r", "kind": "OTHER", "kindName": "MY_PIPELINE", "status": "RUNNING"},
    ]
    query = "query($s: [SpanStatus!]) { executions(filter: {statuses: $s}) { edges { node { id } } } }"
    assert (await tenant.gql_data(query, {"s": ["RUNNING"]}))["executions"]["edges"] == [{"node": {"id": "ex-k"}}]
    body = await tenant.gql(query, {"s": ["running"]})  # enum names are exact
    assert "SpanStatus" in body["errors"][0]["message"]
