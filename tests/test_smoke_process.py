"""`tracehouse serve` as a real process: ingest, read back, restart on the same data dir, still there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.process import ServerProcess

INGEST = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { count eventIds } }"
READ = "query($id: ID!) { event(id: $id) { id name payload } }"


def _gql(client: httpx.Client, query: str, variables: dict[str, object]) -> dict[str, object]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_serve_ingest_restart_and_keys_cli(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", "th_smoke_bootstrap")
    server.start()
    try:
        with server.client() as client:
            assert client.get("/readyz").status_code == 200
            data = _gql(client, INGEST, {"e": [{"name": "smoke.test", "payload": {"n": 1}}]})
            (event_id,) = data["ingestEvents"]["eventIds"]  # type: ignore[index]
            assert _gql(client, READ, {"id": event_id})["event"]["name"] == "smoke.test"  # type: ignore[index]
            # the CLI attaches to the running embedded Postgres and prints the key last
            out = subprocess.run(
                [str(Path(sys.executable).parent / "tracehouse"), "keys", "create", "--tenant", "second"],
                env=server.env, capture_output=True, text=True, check=True, timeout=120,
            )  # fmt: skip
            other_key = out.stdout.strip().splitlines()[-1]
            other = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {other_key}"})
            assert _gql(other, READ, {"id": event_id})["event"] is None
    finally:
        server.stop()

    server.start()
    try:
        with server.client() as client:
            event = _gql(client, READ, {"id": event_id})["event"]
            assert event == {"id": event_id, "name": "smoke.test", "payload": {"n": 1}}
            other = httpx.Client(base_url=server.url, headers={"X-API-Key": other_key})
            assert other.get("/readyz").status_code == 200
    finally:
        server.stop()


def test_json_logs_carry_the_request_id(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", "th_json_logs", {"TRACEHOUSE_LOG_FORMAT": "json"})
    server.start()
    try:
        with server.client() as client:
            response = client.get("/readyz", headers={"X-Request-ID": "trace-me-42"})
            assert response.headers["x-request-id"] == "trace-me-42"
    finally:
        server.stop()
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["request_id"] == "trace-me-42"]
    assert access and access[0]["logger"] == "tracehouse.access" and "/readyz 200" in access[0]["message"]
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)


def test_keys_cli_refuses_bad_input_and_lists(tmp_path: Path, database_url: str) -> None:
    exe = str(Path(sys.executable).parent / "tracehouse")
    env = {**os.environ, "TRACEHOUSE_DATABASE_URL": database_url, "TRACEHOUSE_DATA_DIR": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, "keys", *args], env=env, capture_output=True, text=True, timeout=120)

    bad_scope = run("create", "--tenant", "cli", "--scopes", "read,root")
    assert bad_scope.returncode != 0 and "--scopes must be" in bad_scope.stderr
    assert run("revoke", "th_no_such_key").returncode != 0
    key = run("create", "--tenant", "cli", "--scopes", "ingest,read").stdout.strip().splitlines()[-1]
    listed = run("list", "--tenant", "cli").stdout
    assert key[:10] in listed and "ingest,read" in listed and key not in listed
    assert run("revoke", key).returncode == 0
    assert "REVOKED" in run("list", "--tenant", "cli").stdout
