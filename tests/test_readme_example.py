"""The README's copy-paste example works as printed: its body is accepted and its query finds the trace."""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from tests.conftest import Tenant

README = Path(__file__).resolve().parents[1] / "README.md"


def _example() -> tuple[object, str]:
    text = README.read_text()
    start = text.index("<!-- example: trace-1")
    body = re.search(r"-d '(.*?)'\n```", text[start:], re.S)
    query = re.search(r"```graphql\n(.*?)\n```", text[start:], re.S)
    assert body is not None and query is not None, "the README example lost its body or its query"
    return orjson.loads(body.group(1)), query.group(1)


async def test_the_readme_example_reads_back(tenant: Tenant) -> None:
    body, query = _example()
    response = await tenant.http.post("/monitoring/v1/events", json=body)
    assert response.status_code == 200 and response.json() == {"count": 4, "success": True}, response.text
    execution = (await tenant.gql_data(query))["execution"]
    assert execution["name"] == "support-agent" and execution["status"] == "SUCCEEDED", execution
    assert execution["durationMs"] == 3000
    (root,) = execution["rootSpans"]
    assert [(c["name"], c["status"]) for c in root["children"]] == [("lookup-order", "SUCCEEDED")]
