"""The Deletion type: the record of one deletion (who asked, when, the filter, how many rows)."""

from __future__ import annotations

from typing import cast

import strawberry

from graph.enums import DeletionState, DeletionTarget
from graph.scalars import JSON
from graph.time_annotations import OptionalDateTime, RequiredDateTime
from resolvers.deletes import DeletionRecord


@strawberry.type(description="One deletion: what was deleted, by which API key, when, and how many rows.")
class Deletion:
    record: strawberry.Private[DeletionRecord]

    @strawberry.field(description="The deletion's number, in the order deletions were asked for.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.record.id))

    @strawberry.field
    def target(self) -> DeletionTarget:
        return DeletionTarget(self.record.target)

    @strawberry.field(description="The filter as asked: `ids`, or the conditions (`all: true` for none).")
    def filter(self) -> JSON:
        return cast(JSON, self.record.filter)

    @strawberry.field
    def state(self) -> DeletionState:
        return DeletionState(self.record.state)

    @strawberry.field(description="The id of the API key that asked (`tracehouse keys list` names it).")
    def key_id(self) -> str:
        return self.record.key_id

    @strawberry.field
    def requested_at(self) -> RequiredDateTime:
        return self.record.requested_at

    @strawberry.field(description="When every store was clean; null while pending.")
    def finished_at(self) -> OptionalDateTime:
        return self.record.finished_at

    @strawberry.field(description="Events deleted (span lifecycle and audit events), counted as they were matched.")
    def events(self) -> int:
        return self.record.events

    @strawberry.field(description="Whole executions deleted; 0 for a deletion of events.")
    def executions(self) -> int:
        return self.record.executions
