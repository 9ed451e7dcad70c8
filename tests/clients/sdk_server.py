"""Helpers for the SDK tests: the key, the environment that keeps the SDKs on the server (any HTTP(S)
request to another host goes to a closed local port, so it fails; only 127.0.0.1 is direct), GraphQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.process import ServerProcess

KEY = "th_sdk_client_key"
NO_OTHER_HOST = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
                 "NO_PROXY": "127.0.0.1,localhost"}  # fmt: skip


def gql(server: ServerProcess, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    with server.client() as client:
        body = client.post("/graphql", json={"query": query, "variables": variables or {}}).json()
    assert "errors" not in body, body
    return body["data"]


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """The first truthy result of `check`, polled until the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, "condition not met before the deadline"
            return result
        time.sleep(0.1)

