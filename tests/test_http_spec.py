"""The GraphQL-over-HTTP spec and response compression.

The spec's own checks are the `graphql-http` package's server audits (tests/http_spec/audit.mjs, installed
from the npm registry into tests/http_spec/node_modules on first run) against a real server process;
without node/npm that test skips, saying so. The media-type rules and compression are also checked
in-process, so they are covered everywhere.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import brotli
import httpx
import pytest
import zstandard

from tests.conftest import Tenant
from tests.process import ServerProcess

AUDIT_DIR = Path(__file__).parent / "http_spec"
GRAPHQL_RESPONSE = "application/graphql-response+json"
COUNT = "{ executions(first: 1) { totalCount } }"
BIG = "{ __schema { types { name description fields { name description } } } }"


def _npm_or_skip() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "SKIPPED LOUDLY: node/npm not installed, the graphql-http spec audits did not run"
        warnings.warn(reason, stacklevel=2)
        pytest.skip(reason)
    return node, npm


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("spec") / "data", "th_spec_audit_key",
                         {"TRACEHOUSE_RATE_LIMIT_PER_SECOND": "0"})  # fmt: skip
    proc.start()
    yield proc
    proc.stop()


def test_every_graphql_http_audit_passes(server: ServerProcess) -> None:
    node, npm = _npm_or_skip()
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=AUDIT_DIR, check=True, timeout=300)
    out = subprocess.run(
        [node, "audit.mjs", f"{server.url}/graphql", server.api_key],
        cwd=AUDIT_DIR, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    results = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(results) >= 61, out.stdout
    not_ok = [f"{r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] != "ok"]
    assert not not_ok, "\n".join(not_ok)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ executions(first: 1) { totalCount }"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "query($n: Int!) { executions(first: $n) { totalCount } }", "variables": {"n": "x"}}, None),
    ],
    ids=["parse", "validation", "variables"],
)
async def test_request_errors_are_4xx_without_data_for_graphql_response_json(
    tenant: Tenant, body: dict[str, object], code: str | None
) -> None:
    response = await tenant.http.post("/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    answer = response.json()
    assert "data" not in answer and answer["errors"]
    # existing application/json clients see what they always saw
    legacy = await tenant.http.post("/graphql", json=body, headers={"Accept": "application/json"})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    assert legacy.json()["data"] is None and legacy.json()["errors"]


async def test_graphql_response_json_success_and_preference(tenant: Tenant) -> None:
    both = f"{GRAPHQL_RESPONSE}, application/json;q=0.9"
    response = await tenant.http.post("/graphql", json={"query": COUNT}, headers={"Accept": both})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["data"]["executions"]["totalCount"] == 0
    for accept in ("application/json", "*/*", "application/json, application/graphql-response+json;q=0.5"):
        response = await tenant.http.post("/graphql", json={"query": COUNT}, headers={"Accept": accept})
        assert response.headers["content-type"].startswith("application/json"), accept


async def test_responses_are_compressed_as_the_client_accepts(tenant: Tenant) -> None:
    plain = await tenant.http.post("/graphql", json={"query": BIG}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    body = plain.content
    assert len(body) > 10_000
    decoders = {"gzip": gzip.decompress, "br": brotli.decompress,
                "zstd": lambda raw: zstandard.ZstdDecompressor().decompressobj().decompress(raw)}  # fmt: skip
    for encoding, decode in decoders.items():
        async with tenant.http.stream(
            "POST", "/graphql", json={"query": BIG}, headers={"Accept-Encoding": encoding}
        ) as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        assert response.headers["content-encoding"] == encoding
        assert "accept-encoding" in response.headers["vary"].lower()
        assert len(raw) < len(body) / 3
        assert json.loads(decode(raw)) == json.loads(body)
    # zstd first when a client takes several; small bodies stay as they are
    both = await tenant.http.post("/graphql", json={"query": BIG}, headers={"Accept-Encoding": "gzip, br, zstd"})
    assert both.headers["content-encoding"] == "zstd"
    small = await tenant.http.post("/graphql", json={"query": COUNT}, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


def test_compressed_through_the_server(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, headers={"X-API-Key": server.api_key}) as http:
        response = http.post("/graphql", json={"query": BIG}, headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert response.json()["data"]["__schema"]["types"]
