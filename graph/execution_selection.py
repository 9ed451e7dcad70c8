"""Whether an `execution(id)` selection needs the execution's summary, or only its id and spans.

The summary (name, status, times, root texts, span count …) merges every span of the trace: for a big
trace read page by page that was a second aggregation of the whole trace on every page. A selection of
only `id`, `__typename` and `spans` (without `totalCount`, which is the summary's span count) is answered
from an existence check and the page itself. Anything else, including a field added later, needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

_WITHOUT_SUMMARY = frozenset({"__typename", "id", "spans"})


def _flat(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection, fragments and inline fragments spread out."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _flat(selection.selections)


def needs_summary(execution_fields: Iterable[Selection]) -> bool:
    """For the `execution` field's info.selected_fields."""
    for execution in _flat(execution_fields):
        for field in _flat(execution.selections):
            if field.name not in _WITHOUT_SUMMARY:
                return True
            if field.name == "spans" and any(f.name == "totalCount" for f in _flat(field.selections)):
                return True
    return False


class UnsummarizedExecution:
    """Stands for an ExecutionRecord that was not read (needs_summary said no): its id only. Any other
    attribute is a bug in needs_summary, and says so instead of answering with a made-up value."""

    __slots__ = ("id",)

    def __init__(self, execution_id: str) -> None:
        self.id = execution_id

    def __getattr__(self, name: str) -> object:
        raise RuntimeError(f"the execution's summary was not read, yet its `{name}` was asked for")
