"""What a selection of an execution's spans needs read: which detail columns, and whether the whole trace.

`Execution.spans` reads a page by itself (resolvers/loaders/span_page_by_execution.py) when no span in it
asks for its parent or children, and reads only the columns of the fields selected: a skeleton (ids,
parents, names, kinds, statuses, times) reads none of the texts. Anything this module does not know
(a field added to Span later) counts as needing everything, so a new field can cost speed, never data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from resolvers.records import ALL_DETAILS

# Span fields whose value needs a detail column (by the same name in storage.clickhouse.spans.ALL_DETAILS).
_DETAILS = {"inputs", "outputs", "error", "attributes", "usage", "cost"}
# Span fields read from the skeleton, or through a loader of their own: no detail column, no trace.
_SKELETON = {"__typename", "id", "nodeId", "executionId", "parentId", "name", "kind", "kindName", "status",
             "startTime", "endTime", "durationMs", "events", "execution"}  # fmt: skip


@dataclass(frozen=True)
class SpanNeeds:
    details: frozenset[str]
    trace: bool  # parent or children (or a field this module does not know): the whole trace is read


def flat_fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection, fragments and inline fragments spread out."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from flat_fields(selection.selections)


def span_needs(connections: Iterable[Selection]) -> SpanNeeds:
    """What the `spans` connection fields (info.selected_fields) select of their nodes."""
    details: set[str] = set()
    trace = False
    for connection in flat_fields(connections):
        for edges in flat_fields(connection.selections):
            if edges.name != "edges":
                continue  # totalCount, pageInfo
            for node in flat_fields(edges.selections):
                if node.name != "node":
                    continue  # cursor
                for field in flat_fields(node.selections):
                    if field.name in _DETAILS:
                        details.add(field.name)
                    elif field.name not in _SKELETON:
                        trace = True
    if trace:
        return SpanNeeds(ALL_DETAILS, True)
    assert details <= ALL_DETAILS
    return SpanNeeds(frozenset(details), False)
