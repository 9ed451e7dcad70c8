"""Relay global ids: an opaque, stable encoding of a type and its natural key.

`base64url(JSON ["Span", executionId, spanId])`: deterministic, so an id a client cached stays valid
across restarts and replicas; JSON keeps ids containing ':' or any other character unambiguous. The
tenant is not part of the id: it comes from the caller's key, so another tenant's id simply finds nothing.
"""

from __future__ import annotations

import base64

import orjson

# How many natural-key parts each type's id carries. An Event's is its source (format) and id, since an id is
# unique only within a format; ids made before that (["Event", id]) still read, as the newest with that id.
KEY_PARTS: dict[str, int] = {"Execution": 1, "Span": 2, "Event": 2, "Actor": 2, "Resource": 2, "Annotation": 3}
_LEGACY_KEY_PARTS: dict[str, int] = {"Event": 1}


class InvalidNodeId(ValueError):
    pass


def encode(type_name: str, *key: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([type_name, *key])).decode().rstrip("=")


def decode(node_id: str) -> tuple[str, tuple[str, ...]]:
    """(type name, natural key); InvalidNodeId when it is not an id this server made."""
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(node_id + "=" * (-len(node_id) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise InvalidNodeId(f"invalid node id {node_id!r}") from None
    if (
        not isinstance(parts, list)
        or not parts
        or parts[0] not in KEY_PARTS
        or len(parts) - 1 not in (KEY_PARTS[parts[0]], _LEGACY_KEY_PARTS.get(parts[0]))
        or not all(isinstance(p, str) for p in parts)
    ):
        raise InvalidNodeId(f"invalid node id {node_id!r}")
    return parts[0], tuple(parts[1:])
