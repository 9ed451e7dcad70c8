"""How an event counts for actor stats: a success, a failure, or neither.

An event is a failure when the last segment of its type says so (`*.failed`, `*.failure`, `*.error`,
`*.errored`, `*.rejected`, `*.cancelled`, `*.timed_out`), or its payload has `status`/`outcome` of
failed/failure/error; a success when the last segment is `succeeded`, `success`, `completed`, `fulfilled`,
`finished` or `ok`, or the payload's `status`/`outcome` is success/succeeded/completed/ok. Anything else
(e.g. `schedule.fired`) counts toward `total` only.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ingest.lifecycle import CACHED_NAME_MAX

SUCCESS = "success"
FAILURE = "failure"

_FAILURE_WORDS = frozenset(
    {
        "failed",
        "failure",
        "fail",
        "error",
        "errored",
        "rejected",
        "cancelled",
        "canceled",
        "timed_out",
        "timeout",
    }
)
_SUCCESS_WORDS = frozenset({"succeeded", "success", "completed", "fulfilled", "finished", "ok", "done"})


def _word(value: str) -> str:
    return value.strip().lower().replace("-", "_")


def outcome_of(event_type: str, payload: Any) -> str:
    if isinstance(payload, dict):
        for key in ("status", "outcome"):
            value = payload.get(key)
            if isinstance(value, str):
                word = _word(value)
                if word in _FAILURE_WORDS:
                    return FAILURE
                if word in _SUCCESS_WORDS:
                    return SUCCESS
    return _cached_name_outcome(event_type) if len(event_type) <= CACHED_NAME_MAX else _name_outcome(event_type)


def _name_outcome(event_type: str) -> str:
    last = _word(event_type.rpartition(".")[2])
    if last in _FAILURE_WORDS:
        return FAILURE
    if last in _SUCCESS_WORDS:
        return SUCCESS
    return ""


# a few event types recur in every batch: judged once, not per event (only short ones: see CACHED_NAME_MAX)
_cached_name_outcome = lru_cache(maxsize=4096)(_name_outcome)
