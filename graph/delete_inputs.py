"""What the delete mutations take: which events, or which executions, of the caller's tenant.

An empty filter is refused rather than read as "everything": a deletion of all of a tenant's data must say
`all: true`. Each filter becomes the plain JSON the deletion record keeps (resolvers/deletes.py).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry

from graph.enums import SpanStatus
from graph.time_annotations import OptionalDateTime
from resolvers.errors import bad_input

_ALL = "all: true deletes everything matching no condition: say it, or give at least one condition"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _common(
    field: str, all_: bool, from_: datetime | None, to: datetime | None, conditions: dict[str, Any]
) -> dict[str, Any]:
    """The JSON of a filter: its set conditions (empty lists and strings are unset), times as ISO-8601."""
    if from_ is not None and to is not None and to <= from_:
        raise bad_input("`to` must be later than `from`", f"{field}.to")
    out = {k: v for k, v in conditions.items() if v not in (None, [], "")}
    for key, value in out.items():  # the record keeps the filter in Postgres, whose JSON has no NUL
        if any("\x00" in v for v in (value if isinstance(value, list) else [value])):
            raise bad_input("a condition may not contain the NUL character", f"{field}.{key}")
    if from_ is not None:
        out["from"] = _iso(from_)
    if to is not None:
        out["to"] = _iso(to)
    if not out and not all_:
        raise bad_input(f"the filter has no condition; {_ALL}", field)
    if out and all_:
        raise bad_input("`all: true` takes no other condition", f"{field}.all")
    return out if out else {"all": True}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.value if isinstance(value, Enum) else value


class _Filter:
    """A delete filter's JSON: every field but `all`, `from` and `to` is a condition, keyed by its GraphQL
    name (the keys resolvers/deletes.py reads), enums by their values."""

    if TYPE_CHECKING:  # declared by each input, with its own descriptions
        all: bool
        from_: datetime | None
        to: datetime | None

    def to_json(self) -> dict[str, Any]:
        conditions = {_camel(f.name): _plain(getattr(self, f.name)) for f in dataclasses.fields(self)  # type: ignore[arg-type]
                      if f.name not in ("all", "from_", "to")}  # fmt: skip
        return _common("filter", self.all, self.from_, self.to, conditions)


@strawberry.input(
    description="Which events to delete (with the span pieces they carried); conditions combine with AND. "
    "At least one condition, or `all: true` for every event of the tenant."
)
class DeleteEventsFilter(_Filter):
    all: bool = strawberry.field(default=False, description="Every event of the tenant (no other condition).")
    from_: OptionalDateTime = strawberry.field(default=None, name="from", description="Events at or after.")
    to: OptionalDateTime = strawberry.field(default=None, description="Events before.")
    names: list[str] | None = strawberry.field(default=None, description="Event types, any of.")
    actor_type: str | None = None
    actor_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    execution_id: strawberry.ID | None = strawberry.field(
        default=None, description="The events of one execution (a HoneyHive session's id is its execution's)."
    )
    correlation_id: str | None = None


@strawberry.input(
    description="Which executions to delete, each whole (every event and span); conditions combine with AND. "
    "At least one condition, or `all: true` for every execution of the tenant."
)
class DeleteExecutionsFilter(_Filter):
    all: bool = strawberry.field(default=False, description="Every execution of the tenant (no other condition).")
    from_: OptionalDateTime = strawberry.field(default=None, name="from", description="Started at or after.")
    to: OptionalDateTime = strawberry.field(default=None, description="Started before.")
    name: str | None = None
    statuses: list[SpanStatus] | None = strawberry.field(default=None, description="Root span statuses, any of.")
    actor_type: str | None = strawberry.field(default=None, description="Executions with an event by this actor.")
    actor_id: str | None = None
    resource_type: str | None = strawberry.field(default=None, description="Executions with an event about this.")
    resource_id: str | None = None
    session_id: str | None = strawberry.field(default=None, description="The execution of this session id.")
