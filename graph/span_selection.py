"""What a selection of an execution's spans needs read: which detail columns, and whether the whole trace.

`Execution.spans` reads a page by itself (resolvers/loaders/span_page_by_execution.py) when no span in it
asks for its parent or children, and reads only the columns of the fields selected: a skeleton (ids,
parents, names, kinds, statuses, times) reads none of the texts. Anything this module does not know
(a field added to Span later) counts as needing everything, so a new field can cost speed, never data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionNode

from resolvers.records import ALL_DETAILS

# Span fields whose value needs a detail column (by the same name in storage.clickhouse.spans.ALL_DETAILS).
_DETAILS = {"inputs", "outputs", "error", "attributes", "usage", "cost"}
# Span fields read from the skeleton, or through a loader of their own: no detail column, no trace.
_SKELETON = {"__typename", "id", "nodeId", "executionId", "parentId", "name", "kind", "kindName", "status",
             "startTime", "endTime", "durationMs", "events", "execution"}  # fmt: skip

Fragments = Mapping[str, FragmentDefinitionNode]


@dataclass(frozen=True)
class SpanNeeds:
    details: frozenset[str]
    trace: bool  # parent or children (or a field this module does not know): the whole trace is read


def flat_fields(selections: Iterable[SelectionNode], fragments: Fragments) -> Iterator[FieldNode]:
    """The fields of a selection in the document (a resolver's info.field_nodes, or a field's selections),
    fragments and inline fragments spread out. Read off the parsed document as it is: Strawberry's
    info.selected_fields converts every field's arguments and directives below first (~0.1 ms a selection of
    a span's every field, two or three times a request)."""
    for selection in selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from flat_fields(selection.selection_set.selections, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            yield from flat_fields(fragments[selection.name.value].selection_set.selections, fragments)


def subfields(field: FieldNode, fragments: Fragments) -> Iterator[FieldNode]:
    """flat_fields of a field's own selections (none for a leaf)."""
    return flat_fields(field.selection_set.selections if field.selection_set else (), fragments)


def span_needs(connections: Iterable[FieldNode], fragments: Fragments) -> SpanNeeds:
    """What the `spans` connection fields (a resolver's info.field_nodes) select of their nodes."""
    details: set[str] = set()
    trace = False
    for connection in flat_fields(connections, fragments):
        for edges in subfields(connection, fragments):
            if edges.name.value != "edges":
                continue  # totalCount, pageInfo
            for node in subfields(edges, fragments):
                if node.name.value != "node":
                    continue  # cursor
                for field in subfields(node, fragments):
                    if field.name.value in _DETAILS:
                        details.add(field.name.value)
                    elif field.name.value not in _SKELETON:
                        trace = True
    if trace:
        return SpanNeeds(ALL_DETAILS, True)
    assert details <= ALL_DETAILS
    return SpanNeeds(frozenset(details), False)
