"""A deletion by filter names its batch of executions in Postgres before deleting them; execution ids may hold
characters Postgres text cannot (NUL), and such an execution is deleted like any other."""

from __future__ import annotations

from tests.conftest import Tenant

LOG_SPANS = "mutation($s: [SpanInput!]!) { logSpans(spans: $s) { count } }"
EXECUTIONS = "{ executions(first: 10) { edges { node { id } } } }"


async def test_an_execution_id_with_nul_is_deleted_by_filter(tenant: Tenant) -> None:
    for execution_id in ("plain", "nul\x00id"):
        span = {"id": "root", "executionId": execution_id, "name": "gone.soon", "startTime": "2026-11-01T10:00:00Z",
                "endTime": "2026-11-01T10:00:01Z", "status": "SUCCEEDED"}  # fmt: skip
        await tenant.gql_data(LOG_SPANS, {"s": [span]})
    listed = await tenant.gql_data(EXECUTIONS)
    assert sorted(e["node"]["id"] for e in listed["executions"]["edges"]) == ["nul\x00id", "plain"]

    delete = 'mutation { deleteExecutionsByFilter(filter: {name: "gone.soon"}) { state executions } }'
    done = await tenant.gql_data(delete)
    assert done["deleteExecutionsByFilter"] == {"state": "DONE", "executions": 2}
    assert (await tenant.gql_data(EXECUTIONS))["executions"]["edges"] == []
