"""The delete filters' JSON (what a deletion record keeps and a restarted server re-applies) uses exactly the
condition names the deletion reads: every GraphQL field of a filter but `all` is one."""

from __future__ import annotations

from datetime import UTC, datetime

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
