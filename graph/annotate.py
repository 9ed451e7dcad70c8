"""What the `annotate` mutations do: node ids → targets, checked records, targets found in the tenant, one
insert; every refusal a GraphQL error with `extensions.code` (BAD_USER_INPUT, NOT_FOUND,
SERVICE_UNAVAILABLE) and nothing stored.

Here in graph/ because graph/ may call ingest/ (where the annotation model and its checks live).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from ingest.annotations import AnnotationRecord, TargetNotFound, build, check_targets, store
from ingest.validation import InvalidInput
from resolvers import node_ids
from resolvers.errors import bad_input, unavailable
from resolvers.stores import ClickHouse, StoreUnavailable


def _target(node_id: str, field: str) -> tuple[str, str]:
    """(execution_id, span_id) of a Span's or an Execution's nodeId; span_id '' for an execution."""
    try:
        type_name, key = node_ids.decode(node_id)
    except node_ids.InvalidNodeId as exc:
        raise bad_input(str(exc), field) from None
    if type_name == "Execution":
        return key[0], ""
    if type_name == "Span":
        return key[0], key[1]
    raise bad_input(f"targetId must be the nodeId of a Span or an Execution, not of a {type_name}", field)


def _prefix(field: str, loc: str) -> str:
    return f"{field}.{loc}" if field and loc else field or loc


async def annotate(
    ch: ClickHouse, tenant_id: str, author: str, items: list[dict[str, Any]], limit: int, argument: str | None
) -> list[AnnotationRecord]:
    """`items` are {targetId, name, source, score?, label?, comment?, metadata?}; `argument` names the list
    argument in errors (`annotations[2].score`), None when the fields are the mutation's own arguments."""
    if len(items) > limit:
        raise bad_input(f"batch of {len(items)} annotations exceeds the limit of {limit}", argument)
    records: list[AnnotationRecord] = []
    for index, item in enumerate(items):
        at = f"{argument}[{index}]" if argument else ""
        execution_id, span_id = _target(str(item["targetId"]), _prefix(at, "targetId"))
        metadata = item.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise bad_input("metadata must be a JSON object", _prefix(at, "metadata"))
        try:
            record = build(
                (), execution_id, span_id, item["name"], item["source"], "graphql", author,
                score=item.get("score"), label=item.get("label"), comment=item.get("comment"), metadata=metadata,
            )  # fmt: skip
            records.append(record)
        except InvalidInput as exc:
            field = _prefix(at, exc.field)
            message = str(exc.errors[0]["msg"])
            raise bad_input(f"{field}: {message}" if field else message, field or None) from None
    try:
        await check_targets(ch, tenant_id, records)
        await store(ch, tenant_id, records)
    except TargetNotFound as exc:
        field = _prefix(f"{argument}[{exc.index}]" if argument else "", "targetId")
        raise GraphQLError(str(exc), extensions={"code": "NOT_FOUND", "field": field}) from None
    except StoreUnavailable as exc:
        raise unavailable(f"{exc.store} is unavailable; nothing was stored, retry later") from None
    return records
