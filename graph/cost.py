"""Cost in one unit (USD, …); spans and executions carry one entry per unit."""

from __future__ import annotations

import orjson
import strawberry


@strawberry.type
class Cost:
    value: float
    unit: str
    source: str | None = strawberry.field(
        default=None,
        description="Where the figure came from: `reported` by the client, `price_table:<model>` when derived "
        "from token usage, null when sent as a plain cost.",
    )

    # Reads of a stored entry (a dict of the span's cost text), what from_json sets: a span's cost is completed
    # from its parsed entries, without Cost objects (graph/fast_execution.py).
    FAST_RECORD_READS = {"value": "obj['value']", "unit": "obj['unit']", "source": "obj.get('source')"}

    @classmethod
    def from_json(cls, raw: str) -> list[Cost]:
        return [_cost(c["value"], c["unit"], c.get("source")) for c in orjson.loads(raw)] if raw else []


_new = object.__new__


def _cost(value: float, unit: str, source: str | None) -> Cost:
    """Cost(value=…, unit=…, source=…) with its attributes set as one dict: the dataclass __init__ with keywords
    costs ~2x as much, once per cost entry of every span of a trace."""
    cost: Cost = _new(Cost)
    cost.__dict__ = {"value": value, "unit": unit, "source": source}
    return cost
