"""Token usage: totals and the same counts split per model."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import strawberry


@strawberry.type
class ModelUsage:
    model: str
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int

    @strawberry.field
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@strawberry.type
class Usage:
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    by_model: list[ModelUsage]

    @strawberry.field(description="inputTokens + outputTokens (cache counts are part of the input).")
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @classmethod
    def of(cls, per_model: Iterable[tuple[str, int, int, int, int]]) -> Usage:
        by_model = [ModelUsage(model=m, input_tokens=i, output_tokens=o, cache_creation_input_tokens=cc,
                               cache_read_input_tokens=cr) for m, i, o, cc, cr in per_model]  # fmt: skip
        return cls(
            input_tokens=sum(m.input_tokens for m in by_model),
            output_tokens=sum(m.output_tokens for m in by_model),
            cache_creation_input_tokens=sum(m.cache_creation_input_tokens for m in by_model),
            cache_read_input_tokens=sum(m.cache_read_input_tokens for m in by_model),
            by_model=by_model,
        )

    @classmethod
    def from_json(cls, raw: str) -> Usage | None:
        """A span's stored usage (a list of per-model entries), or None when it has none."""
        if not raw:
            return None
        entries: list[dict[str, Any]] = orjson.loads(raw)
        return cls.of(
            (e["model"], e["input_tokens"], e["output_tokens"], e["cache_creation_input_tokens"],
             e["cache_read_input_tokens"]) for e in entries
        )  # fmt: skip
