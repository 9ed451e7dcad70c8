"""A big GraphQL response goes out in pieces (server/json_body.py): the pieces are exactly orjson's encoding
of the result, and over HTTP a streamed body is the body the unstreamed path gives, with its length."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from graph import fast_execution
from graph.context import Context, Stores
from graph.schema import build_schema
from server.json_body import SLICE, STREAM_MIN_BYTES, encode_pieces
from server.state import AppState
from storage.postgres.keys import Principal
from tests.big_traces import insert_big_trace
from tests.conftest import Tenant

VALUES: list[Any] = [
    {},
    [],
    None,
    {"data": None, "errors": [{"message": "x", "path": ["a", 0]}]},
    {"data": {"a": [orjson.Fragment(b'{"x":1}')] * (SLICE * 3 + 7), "b": "é\u2028\x00", "c": 1.5, "d": []}},
    {"data": {"nested": [{"deep": list(range(SLICE + 1))}], "many": [{"i": i, "s": str(i)} for i in range(1000)]}},
    {1: "a non-str key: orjson's own error or encoding, not ours"},
    [{"data": {"a": list(range(SLICE * 2))}}, {"data": None}],
    {"data": {"edges": [orjson.Fragment(b'{"n":1},{"n":2}'), orjson.Fragment(b'{"n":3}'), None, 4]}},
]


@pytest.mark.parametrize("value", VALUES)
def test_the_pieces_are_orjsons_encoding(value: Any) -> None:
    try:
        expected = orjson.dumps(value)
    except TypeError:
        with pytest.raises(TypeError):
            encode_pieces(value)
        return
    assert b"".join(encode_pieces(value)) == expected


def test_early_encoded_chunks_are_pieces_of_their_own() -> None:
    """A list of Fragments (items encoded early, many to a Fragment) is not re-encoded SLICE Fragments at a
    time, which would make pieces of SLICE chunks of items: each Fragment is its own piece."""
    chunk = orjson.Fragment(b",".join([b'{"x":"' + b"y" * 1000 + b'"}'] * 64))
    pieces = encode_pieces({"data": {"edges": [chunk] * (SLICE * 2)}})
    assert max(len(p) for p in pieces) < 70_000
    assert b"".join(pieces) == orjson.dumps({"data": {"edges": [chunk] * (SLICE * 2)}})


def test_items_encoded_early_are_written_as_their_bytes() -> None:
    """A list the fast path encoded early (graph/fast_execution.py EncodedItems) is written as the bytes of its
    chunks, each a piece of its own and the same object, not encoded again; the pieces are orjson's encoding of
    the result, and the list lets go of each chunk once it is a piece."""
    items = [{"i": i, "s": "é" * (i % 3)} for i in range(fast_execution.CHUNK * 2 + 5)]
    encoded = fast_execution.encoded_items(lambda item: {"node": item}, items)
    expected = orjson.dumps({"data": {"edges": encoded, "n": 1}})
    raw = list(encoded.raw)
    pieces = encode_pieces({"data": {"edges": encoded, "n": 1}})
    assert b"".join(pieces) == expected and len(raw) == 3
    assert all(any(p is chunk for p in pieces) for chunk in raw)
    assert encoded.raw == [None] * 3 and list(encoded) == [None] * 3


async def test_a_streamed_response_is_the_unstreamed_one(tenant: Tenant, state: AppState) -> None:
    tenant_id = await state.pg.fetchval("SELECT id FROM tenants WHERE name = $1", tenant.name)
    await insert_big_trace(state.ch, tenant_id, "streamed", 3_000)
    query = """query($id: ID!) { execution(id: $id) { id spans(first: 3000) { totalCount edges { cursor node {
      id parentId name kind status startTime endTime durationMs inputs outputs attributes error { message }
      usage { totalTokens byModel { model } } cost { value unit } } } } } }"""
    body = {"query": query, "variables": {"id": "streamed"}}
    response = await tenant.http.post("/graphql", json=body, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert len(response.content) > STREAM_MIN_BYTES  # big enough to go out in pieces
    assert response.headers["content-length"] == str(len(response.content))
    # the same operation executed without early encoding, encoded in one call
    stores = Stores(state.ch, state.pg, state.writer, state.settings.max_batch_items)
    context = Context(stores, Principal("k", tenant_id, "t", ("admin",)))
    result = await build_schema().execute(query, variable_values={"id": "streamed"}, context_value=context)
    assert not result.errors
    assert response.content == orjson.dumps({"data": result.data})
    gzipped = await tenant.http.post("/graphql", json=body, headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip" and gzipped.content == response.content
