"""Fuzzing with schemathesis against `tracehouse serve`: generated REST calls from the OpenAPI document and
generated GraphQL queries from the schema, a bounded number of each. No 5xx; every refusal a clear 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from graphql import introspection_from_schema
from hypothesis import HealthCheck, settings

from graph.schema import schema as graphql_schema
from server.app import create_app
from tests.process import ServerProcess

KEY = "th_fuzz_key"
HEADERS = {"X-API-Key": KEY}
FUZZ = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

rest = schemathesis.openapi.from_dict(create_app().openapi())
graphql = schemathesis.graphql.from_dict({"data": introspection_from_schema(graphql_schema._schema)})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Its own embedded Postgres: generated mutations delete with `all: true` in the default tenant, which must
    # not reach the registries and live log other test servers keep in the shared database.
    env = {"TRACEHOUSE_RATE_LIMIT_PER_SECOND": "0"}
    proc = ServerProcess(Path(tmp_path_factory.mktemp("fuzz")), KEY, env)
    proc.start()
    yield proc
    proc.stop()


def _check(response: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    assert status < 500, response.text  # type: ignore[attr-defined]
    if status >= 400 and status != 405:
        body = response.json()  # type: ignore[attr-defined]
        assert body.get("detail") or body.get("errors"), body


@rest.parametrize()
@FUZZ
def test_rest_api_never_fails_on_generated_input(case: schemathesis.Case, server: ServerProcess) -> None:
    _check(case.call(base_url=server.url, headers=HEADERS))


@graphql.parametrize()
@FUZZ
def test_graphql_never_fails_on_generated_queries(case: schemathesis.Case, server: ServerProcess) -> None:
    response = case.call(base_url=f"{server.url}/graphql", headers=HEADERS)
    _check(response)
    body = response.json()
    for error in body.get("errors") or []:
        assert error.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR", error
