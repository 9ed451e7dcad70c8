"""What an audit event becomes: its time, ids, references, payload and outcome."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from ingest import audit
from ingest.validation import InvalidInput


def test_an_audit_event_keeps_its_time_references_and_payload() -> None:
    item = {"id": "a1", "eventType": "schedule.fired", "occurredAt": "2024-02-03T04:05:06.789Z",
            "actorType": "user", "actorId": "u", "resourceType": "job", "resourceId": "j", "correlationId": "c",
            "causationId": "k", "payload": {"status": "failed", "n": 1}}  # fmt: skip
    (e,) = audit.adapt([item]).events
    assert (e.id, e.name, e.timestamp, e.source) == (
        "a1", "schedule.fired", datetime(2024, 2, 3, 4, 5, 6, 789000, tzinfo=UTC), "audit")  # fmt: skip
    assert (e.actor_type, e.actor_id, e.resource_type, e.resource_id, e.correlation_id, e.causation_id) == (
        "user", "u", "job", "j", "c", "k")  # fmt: skip
    assert orjson.loads(e.payload) == {"status": "failed", "n": 1}
    assert e.outcome == "failure"  # the payload's status, though the type says nothing
    assert (e.execution_id, e.span_id, e.span) == ("", "", None)


def test_defaults_a_new_id_the_time_received_and_an_empty_payload() -> None:
    before = datetime.now(UTC)
    (e,) = audit.adapt([{"eventType": "run.completed", "occurredAt": None}]).events
    assert e.id and before <= e.timestamp <= datetime.now(UTC)
    assert (e.payload, e.outcome, e.actor_type, e.actor_id) == ("{}", "success", "", "")
    (listed,) = audit.adapt([{"eventType": "x", "payload": [1, 2]}]).events
    assert listed.payload == "[1,2]"


@pytest.mark.parametrize(
    ("items", "loc"),
    [
        ([{}], [0, "eventType"]),
        ([{"eventType": "x"}, "nope"], [1]),
        ([{"eventType": "x", "occurredAt": "yesterday"}], [0, "occurredAt"]),
        ([{"eventType": "x", "actorId": {"id": 5}}], [0, "actorId"]),
    ],
)
def test_bad_items_are_named(items: list[object], loc: list[object]) -> None:
    with pytest.raises(InvalidInput) as raised:
        audit.adapt(items)
    assert raised.value.errors[0]["loc"] == loc
