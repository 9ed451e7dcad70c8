"""Lifecycle events of one span for the `executions` subscription's tests (tests/test_live_*.py): one builder,
so every file writes the same shape of event."""

from __future__ import annotations

from typing import Any


def span(
    execution: str, span_id: str, phase: str, kind: str = "chain", parent: str | None = None, session: str = ""
) -> dict[str, Any]:
    """A lifecycle event of one span (`chain.started`, `chain.failed`, `session.completed`, …) as the
    `ingestEvents` mutation takes it, naming `session` (the `session.id` attribute) if given."""
    payload: dict[str, Any] = {"name": f"{kind} {span_id}"}
    if session:
        payload["attributes"] = {"session.id": session}
    event: dict[str, Any] = {"name": f"{kind}.{phase}", "executionId": execution, "spanId": span_id, "payload": payload}
    if parent:
        event["parentSpanId"] = parent
    return event
