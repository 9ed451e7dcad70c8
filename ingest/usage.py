"""Token usage and cost in the shapes the formats carry them, normalized to one model.

Usage is a list of per-model entries {model, input_tokens, output_tokens, cache_creation_input_tokens,
cache_read_input_tokens}; cost is a list of {value, unit}.
"""

from __future__ import annotations

from typing import Any

from ingest.records import SpanPiece
from ingest.validation import InvalidInput, Loc, dumps

TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")

# Every spelling a format uses for each count.
_ALIASES: dict[str, tuple[str, ...]] = {
    "input_tokens": ("input_tokens", "inputTokens", "input_token_count", "prompt_tokens", "promptTokens"),
    "output_tokens": (
        "output_tokens", "outputTokens", "output_token_count", "completion_tokens", "completionTokens",
    ),
    "cache_creation_input_tokens": ("cache_creation_input_tokens", "cacheCreationInputTokens"),
    "cache_read_input_tokens": ("cache_read_input_tokens", "cacheReadInputTokens"),
}  # fmt: skip
_MODEL_KEYS = ("model", "ml_model_name", "modelName", "model_name")


# GraphQL's Int is 32-bit: a count past it could be stored but never read back through `Usage`.
MAX_TOKENS = 2**31 - 1
# Costs are summed over spans and executions: far below where a Float64 sum overflows or loses cents.
MAX_COST = 1e15


def token_count(value: Any, loc: Loc) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(loc, "must be a non-negative number", "int_type")
    if not 0 <= value <= MAX_TOKENS:  # also refuses NaN
        raise InvalidInput(loc, f"must be between 0 and {MAX_TOKENS}", "int_range")
    return int(value)


def _cost_value(value: float, loc: Loc) -> float:
    if not -MAX_COST <= value <= MAX_COST:  # also refuses NaN and infinities (and ints float() cannot take)
        raise InvalidInput(loc, f"must be a finite number between -{MAX_COST:.0e} and {MAX_COST:.0e}", "float_range")
    return float(value)


def usage_entry(raw: dict[str, Any], loc: Loc, model: str = "") -> dict[str, Any] | None:
    """One usage entry from a flat dict (or Vellum's {ml_model_name, ml_model_usage}); None if it has none."""
    nested = raw.get("ml_model_usage")
    counts: dict[str, Any] = nested if isinstance(nested, dict) else raw
    entry: dict[str, Any] = {"model": model}
    for key in _MODEL_KEYS:
        if isinstance(raw.get(key), str):
            entry["model"] = raw[key]
            break
    found = False
    for field, aliases in _ALIASES.items():
        entry[field] = 0
        for alias in aliases:
            if counts.get(alias) is not None:
                entry[field] = token_count(counts[alias], (*loc, alias))
                found = True
                break
    return entry if found else None


def normalize_usage(raw: Any, loc: Loc, model: str = "") -> list[dict[str, Any]]:
    if raw is None:
        return []
    if isinstance(raw, dict):
        if isinstance(raw.get("usage"), list):  # Vellum usage_result
            return normalize_usage(raw["usage"], (*loc, "usage"), model)
        if isinstance(raw.get("byModel"), list):
            return normalize_usage(raw["byModel"], (*loc, "byModel"), model)
        entry = usage_entry(raw, loc, model)
        return [entry] if entry else []
    if isinstance(raw, list):
        out = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise InvalidInput((*loc, i), "must be an object", "dict_type")
            entry = usage_entry(item, (*loc, i), model)
            if entry:
                out.append(entry)
        for field in TOKEN_FIELDS:  # a span's usage sums its entries
            if sum(e[field] for e in out) > MAX_TOKENS:
                raise InvalidInput(loc, f"{field} sums to more than {MAX_TOKENS}", "int_range")
        return out
    raise InvalidInput(loc, "must be an object or a list", "dict_type")


def normalize_cost(raw: Any, loc: Loc) -> list[dict[str, Any]]:
    """A number (USD), {value, unit[, source]} or a list of those; one entry per unit (and source)."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    by_unit: dict[tuple[str, str | None], float] = {}
    for i, item in enumerate(items):
        at = (*loc, i) if isinstance(raw, list) else loc
        source = None
        if isinstance(item, int | float) and not isinstance(item, bool):
            value, unit = _cost_value(item, at), "USD"
        elif isinstance(item, dict) and isinstance(item.get("value"), int | float):
            value, unit = _cost_value(item["value"], (*at, "value")), str(item.get("unit") or "USD")
            source = str(item["source"]) if item.get("source") else None
        else:
            raise InvalidInput(at, "must be a number or {value, unit}", "float_type")
        by_unit[(unit, source)] = _cost_value(by_unit.get((unit, source), 0.0) + value, loc)
    return [{"value": v, "unit": u, **({"source": s} if s else {})} for (u, s), v in by_unit.items()]


def apply_usage(piece: SpanPiece, usage: list[dict[str, Any]], cost: list[dict[str, Any]]) -> None:
    if usage:
        piece.usage = dumps(usage)
        piece.input_tokens = sum(u["input_tokens"] for u in usage)
        piece.output_tokens = sum(u["output_tokens"] for u in usage)
        piece.cache_creation_input_tokens = sum(u["cache_creation_input_tokens"] for u in usage)
        piece.cache_read_input_tokens = sum(u["cache_read_input_tokens"] for u in usage)
    if cost:
        piece.cost = dumps(cost)
