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

    # Reads of a stored entry (a dict of the span's usage text), what _model_usage sets and total_tokens returns:
    # a span's usage is completed from its parsed entries, without ModelUsage objects (graph/fast_execution.py).
    FAST_RECORD_READS = {
        "model": "obj['model']", "input_tokens": "obj['input_tokens']", "output_tokens": "obj['output_tokens']",
        "cache_creation_input_tokens": "obj['cache_creation_input_tokens']",
        "cache_read_input_tokens": "obj['cache_read_input_tokens']",
        "total_tokens": "(obj['input_tokens'] + obj['output_tokens'])",
    }  # fmt: skip


_new = object.__new__


def _model_usage(entry: dict[str, Any]) -> ModelUsage:
    """ModelUsage of a stored entry, its attributes set as one dict (as Usage.of_span sets its own)."""
    model: ModelUsage = _new(ModelUsage)
    model.__dict__ = {
        "model": entry["model"], "input_tokens": entry["input_tokens"], "output_tokens": entry["output_tokens"],
        "cache_creation_input_tokens": entry["cache_creation_input_tokens"],
        "cache_read_input_tokens": entry["cache_read_input_tokens"],
    }  # fmt: skip
    return model


@strawberry.type
class Usage:
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    # The per-model entries, or a span's stored usage text: parsed only when byModel is asked for (the totals
    # are the span's token columns, which the writer sums from the same entries).
    models: strawberry.Private[list[ModelUsage] | str]

    @strawberry.field
    def by_model(self) -> list[ModelUsage]:
        return self.model_list()

    def model_list(self) -> list[ModelUsage]:
        """The per-model entries, parsed from the stored text on first use."""
        if isinstance(self.models, str):
            entries: list[dict[str, Any]] = orjson.loads(self.models)
            self.models = [_model_usage(e) for e in entries]
        return self.models

    @strawberry.field(description="inputTokens + outputTokens (cache counts are part of the input).")
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    # Reads of a span's record (resolvers.records.SpanRecord) that has usage, what of_span sets and the methods
    # return: Span.FAST_RECORD_RECORDS hands the record itself, and byModel reads its parsed entries.
    FAST_RECORD_READS = {
        "input_tokens": "obj.input_tokens", "output_tokens": "obj.output_tokens",
        "cache_creation_input_tokens": "obj.cache_creation_input_tokens",
        "cache_read_input_tokens": "obj.cache_read_input_tokens",
        "total_tokens": "(obj.input_tokens + obj.output_tokens)",
        "by_model": "[_model_usage(e) for e in _loads(obj.usage)]",
    }  # fmt: skip
    FAST_RECORD_NAMES = {"_loads": orjson.loads, "_model_usage": _model_usage}
    FAST_RECORD_RECORDS = {"by_model": "_loads(obj.usage)"}

    @classmethod
    def of(cls, per_model: Iterable[tuple[str, int, int, int, int]]) -> Usage:
        by_model = [ModelUsage(model=m, input_tokens=i, output_tokens=o, cache_creation_input_tokens=cc,
                               cache_read_input_tokens=cr) for m, i, o, cc, cr in per_model]  # fmt: skip
        return cls(
            input_tokens=sum(m.input_tokens for m in by_model),
            output_tokens=sum(m.output_tokens for m in by_model),
            cache_creation_input_tokens=sum(m.cache_creation_input_tokens for m in by_model),
            cache_read_input_tokens=sum(m.cache_read_input_tokens for m in by_model),
            models=by_model,
        )

    @classmethod
    def of_span(
        cls, usage: str, input_tokens: int, output_tokens: int, cache_creation: int, cache_read: int
    ) -> Usage | None:
        """A span's usage from its stored entries and token columns, or None when it has none."""
        if not usage:
            return None
        # the attributes the dataclass __init__ sets, as one dict: its keywords cost ~2x as much, once per span
        span_usage: Usage = _new(cls)
        span_usage.__dict__ = {
            "input_tokens": input_tokens, "output_tokens": output_tokens,
            "cache_creation_input_tokens": cache_creation, "cache_read_input_tokens": cache_read, "models": usage,
        }  # fmt: skip
        return span_usage

