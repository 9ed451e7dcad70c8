"""Model prices for deriving cost from token usage when a span reports none (USD per million tokens).

The table ships with Tracehouse and can be overridden or extended with a JSON file
(TRACEHOUSE_MODEL_PRICES: {"model": {"input": 2.5, "output": 10, "cache_read": 1.25, "cache_write": 0}}).
A model matches its exact name first, then the longest known prefix (`gpt-4o-2024-08-06` → `gpt-4o`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ingest.records import Batch
from ingest.validation import dumps


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float = 0.0


DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o": Price(2.50, 10.00, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    "gpt-4.1": Price(2.00, 8.00, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "o3": Price(2.00, 8.00, 0.50),
    "o4-mini": Price(1.10, 4.40, 0.275),
    "claude-3-5-haiku": Price(0.80, 4.00, 0.08, 1.00),
    "claude-3-5-sonnet": Price(3.00, 15.00, 0.30, 3.75),
    "claude-3-7-sonnet": Price(3.00, 15.00, 0.30, 3.75),
    "claude-sonnet-4": Price(3.00, 15.00, 0.30, 3.75),
    "claude-opus-4": Price(15.00, 75.00, 1.50, 18.75),
    "gemini-1.5-pro": Price(1.25, 5.00),
    "gemini-2.0-flash": Price(0.10, 0.40),
    "gemini-2.5-pro": Price(1.25, 10.00),
}


class PriceTable:
    def __init__(self, prices: dict[str, Price] | None = None) -> None:
        self.prices = dict(DEFAULT_PRICES if prices is None else prices)
        self._by_length = sorted(self.prices, key=len, reverse=True)
        # model name -> its match: a big export names the same model on thousands of spans (bounded: a client
        # could send as many names as spans)
        self._matches: dict[str, str | None] = {}

    @classmethod
    def load(cls, path: str | None) -> PriceTable:
        if not path:
            return cls()
        raw: dict[str, Any] = orjson.loads(Path(path).read_bytes())
        prices = dict(DEFAULT_PRICES)
        for model, entry in raw.items():
            prices[model] = Price(float(entry["input"]), float(entry["output"]), float(entry.get("cache_read", 0)),
                                  float(entry.get("cache_write", 0)))  # fmt: skip
        return cls(prices)

    def match(self, model: str) -> str | None:
        if model in self._matches:
            return self._matches[model]
        known = self._match(model)
        if len(self._matches) < 4096:
            self._matches[model] = known
        return known

    def _match(self, model: str) -> str | None:
        name = model.lower()
        if name in self.prices:
            return name
        # provider prefixes ("openai/gpt-4o") and dated versions ("gpt-4o-2024-08-06") still match
        name = name.rsplit("/", 1)[-1]
        return next((known for known in self._by_length if name.startswith(known)), None)

    def cost(self, usage: dict[str, Any]) -> dict[str, Any] | None:
        """USD for one usage entry, naming the price it came from; None for an unknown model."""
        known = self.match(str(usage.get("model") or ""))
        if known is None:
            return None
        p = self.prices[known]
        # input_tokens includes cache reads and writes; they are priced at their own rates
        cached = usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"]
        value = (
            max(0, usage["input_tokens"] - cached) * p.input
            + usage["output_tokens"] * p.output
            + usage["cache_read_input_tokens"] * (p.cache_read or p.input)
            + usage["cache_creation_input_tokens"] * (p.cache_write or p.input)
        ) / 1_000_000
        return {"value": round(value, 10), "unit": "USD", "source": f"price_table:{known}"}


def price_batch(batch: Batch, prices: PriceTable) -> None:
    """Every span piece of any format: a cost the client reported says `source: reported`; usage with a
    known model and no cost gets one derived from the table (`source: price_table:<model>`)."""
    for event in batch.events:
        piece = event.span
        if piece is None:
            continue
        if piece.cost:
            costs = orjson.loads(piece.cost)
            if any("source" not in c for c in costs):
                piece.cost = dumps([{**c, "source": c.get("source") or "reported"} for c in costs])
        elif piece.usage:
            derived = [c for c in (prices.cost(u) for u in orjson.loads(piece.usage)) if c is not None]
            if derived:
                piece.cost = dumps(derived)
