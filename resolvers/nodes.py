"""Refetching objects by Relay global id, through the request's dataloaders.

Every lookup goes through a loader, so `nodes(ids: [...])` costs one query per type asked for, however
many ids it holds. A well-formed id that finds nothing (deleted, or another tenant's) reads as null; an id
this server never made is a client error.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from resolvers import node_ids
from resolvers.errors import bad_input
from resolvers.loaders import Loaders

MAX_IDS = 100  # the cost limiter counts this list like an unpaged one: keep it small


@dataclass(frozen=True, slots=True)
class Found:
    """What an id names: the type's name and what its GraphQL type is built from (a record, a key…)."""

    type_name: str
    value: object


def decode_all(ids: list[str], argument: str) -> list[tuple[str, tuple[str, ...]]]:
    if len(ids) > MAX_IDS:
        raise bad_input(f"at most {MAX_IDS} ids", argument)
    try:
        return [node_ids.decode(i) for i in ids]
    except node_ids.InvalidNodeId as exc:
        raise bad_input(str(exc), argument) from None


async def load_nodes(loaders: Loaders, ids: list[str], argument: str = "ids") -> list[Found | None]:
    decoded = decode_all(ids, argument)
    # Gathered: every load is issued in the same tick, so each loader sees one batch.
    return list(await asyncio.gather(*(_load(loaders, t, key) for t, key in decoded)))


async def _load(loaders: Loaders, type_name: str, key: tuple[str, ...]) -> Found | None:
    value: object | None
    if type_name == "Execution":
        value = await loaders.execution_by_id.load(key[0])
    elif type_name == "Span":
        trace = await loaders.trace_by_execution.load(key[0])
        span = trace.by_id.get(key[1])
        value = (span, trace) if span is not None else None
    elif type_name == "Event":
        value = await loaders.event_by_id.load(("", key[0]) if len(key) == 1 else (key[0], key[1]))
    elif type_name == "Annotation":  # (execution, span or '', id): read with its target's other annotations
        found = await loaders.annotations_by_target.load((key[0], key[1]))
        value = next((r for r in found if r.id == key[2]), None)
    else:  # Actor, Resource: known when this tenant's registry has it
        loader = loaders.actor_by_key if type_name == "Actor" else loaders.resource_by_key
        value = key if await loader.load((key[0], key[1])) is not None else None
    return Found(type_name, value) if value is not None else None
