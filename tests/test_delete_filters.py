"""The delete filters' JSON (what a deletion record keeps and a restarted server re-applies) uses exactly the
condition names the deletion reads: every GraphQL field of a filter but `all` is one."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import strawberry

from graph.delete_inputs import DeleteEventsFilter, DeleteExecutionsFilter
from graph.enums import SpanStatus
from graph.schema import schema
from resolvers.deletes import EVENT_CONDITIONS, EXECUTION_CONDITIONS


def test_every_filter_field_is_a_condition_the_deletion_reads() -> None:
    types = schema._schema.type_map
    filters = (("DeleteEventsFilter", EVENT_CONDITIONS), ("DeleteExecutionsFilter", EXECUTION_CONDITIONS))
    for name, conditions in filters:
        assert set(types[name].fields) - {"all"} == set(conditions), name  # type: ignore[attr-defined]


def test_a_filter_keeps_its_set_conditions_as_plain_json() -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    events = DeleteEventsFilter(names=["a"], actor_type="user", resource_id="", execution_id=None, from_=since)
    assert events.to_json() == {"names": ["a"], "actorType": "user", "from": "2026-01-01T00:00:00+00:00"}
    executions = DeleteExecutionsFilter(statuses=[SpanStatus.FAILED], session_id="s-1")
    assert executions.to_json() == {"statuses": ["FAILED"], "sessionId": "s-1"}
    assert DeleteExecutionsFilter(all=True).to_json() == {"all": True}


def test_a_filter_with_every_field_set_keys_each_by_the_condition_the_deletion_reads() -> None:
    """The JSON keys come from the Python field names: the schema's names alone would not catch a field whose
    key differs from its GraphQL name."""
    since, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    common = {"from_": since, "to": until, "actor_type": "user", "actor_id": "u-1", "resource_type": "agent",
              "resource_id": "a-1"}  # fmt: skip
    filters = (
        (DeleteEventsFilter, {**common, "names": ["a"], "execution_id": strawberry.ID("e-1"), "correlation_id": "c"},
         EVENT_CONDITIONS),
        (DeleteExecutionsFilter, {**common, "name": "n", "statuses": [SpanStatus.FAILED], "session_id": "s-1"},
         EXECUTION_CONDITIONS),
    )  # fmt: skip
    for cls, every, conditions in filters:
        assert {f.name for f in dataclasses.fields(cls)} - {"all"} == set(every), cls
        assert set(cls(**every).to_json()) == set(conditions), cls
