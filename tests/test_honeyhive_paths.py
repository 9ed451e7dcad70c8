"""The HoneyHive SDK's own paths: bad input named, and one tenant never reaches another's events."""

from __future__ import annotations

from tests.conftest import Tenant

SESSION = {"session": {"session_name": "chat", "project": "demo", "source": "test", "inputs": {"q": "hi"}}}


async def test_an_update_never_reaches_another_tenants_event(tenant: Tenant, other_tenant: Tenant) -> None:
    started = await tenant.http.post("/session/start", json=SESSION)
    assert started.status_code == 200, started.text
    event_id = started.json()["event_id"]
    foreign = await other_tenant.http.put("/events", json={"event_id": event_id, "metadata": {"by": "other"}})
    assert foreign.status_code == 404, foreign.text
    query = """query($id: ID!) { execution(id: $id) { name rootSpans { attributes } } }"""
    mine = (await tenant.gql_data(query, {"id": started.json()["session_id"]}))["execution"]
    assert mine is not None and "other" not in str(mine["rootSpans"])
    theirs = await other_tenant.gql_data(query, {"id": started.json()["session_id"]})
    assert theirs["execution"] is None
    own = await tenant.http.put("/events", json={"event_id": event_id, "metadata": {"by": "me"}})
    assert own.status_code == 200, own.text


async def test_bad_input_on_the_sdk_paths_is_named(tenant: Tenant) -> None:
    for method, path, body in (
        ("PUT", "/events", {"metadata": {"a": 1}}),  # no event_id
        ("PUT", "/events", {"event_id": 5}),
        ("POST", "/events", {"event": "not an object"}),
        ("POST", "/events/batch", {"events": "nope"}),
        ("POST", "/session/start", {"session": "not an object"}),
    ):
        response = await tenant.http.request(method, path, json=body)
        assert 400 <= response.status_code < 500, (method, path, response.status_code, response.text)
        assert response.json().get("detail"), (method, path, response.text)
