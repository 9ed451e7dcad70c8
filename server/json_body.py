"""A big GraphQL response body sent in pieces, with its length known before the first one goes out.

Why: orjson.dumps of a 50,000-span result is one 50 MB bytes object, and the socket's write buffer copies
what the kernel does not take at once: with the result itself, three copies of the response at the peak.
Here the result is encoded in slices of its long lists, each slice's items released once encoded (the
result is not read again after the response is built), so the encoded pieces replace the result rather
than add to it; they go out in ~256 KiB writes that wait for the socket to drain. The pieces joined are
byte for byte orjson.dumps of the result (orjson writes no whitespace, so a dict or list is its parts
between its brackets); every piece is encoded before the response starts, so an encoding error is still
a plain error response, never a truncated body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from graph.fast_execution import EncodedItems

SLICE = 256  # items of a long list encoded together
SEND_BYTES = 256 * 1024
STREAM_MIN_BYTES = 1024 * 1024  # smaller bodies go out as one bytes object, as before


def encode_pieces(value: Any) -> list[bytes]:
    """Pieces whose concatenation is orjson.dumps(value). Lists longer than SLICE, and lists of any
    length that open with an orjson Fragment (items encoded early), are emptied as they are encoded (their
    items set to None)."""
    pieces: list[bytes] = []
    _encode(value, pieces)
    return pieces


def _encode(value: Any, pieces: list[bytes]) -> None:
    kind = type(value)
    if kind is dict and value and all(type(k) is str for k in value):
        separator = b"{"
        for key, item in value.items():
            pieces.append(separator + orjson.dumps(key) + b":")
            _encode(item, pieces)
            separator = b","
        pieces.append(b"}")
    elif kind is EncodedItems:
        # items encoded early, CHUNK spans to a Fragment (graph/fast_execution.py): each Fragment's bytes are a
        # piece of their own (~64 KiB), taken as they are
        pieces.append(b"[")
        raw = value.raw
        for index, chunk in enumerate(raw):
            if index:
                pieces.append(b",")
            assert chunk is not None, "an encoded list is written once"
            pieces.append(chunk)
            raw[index] = value[index] = None  # released: the pieces hold the bytes
        pieces.append(b"]")
    elif kind is list and value and type(value[0]) is orjson.Fragment:
        # Fragments in a plain list: each is a piece of its own, so pieces stay ~64 KiB, not SLICE Fragments
        pieces.append(b"[")
        for index, item in enumerate(value):
            if index:
                pieces.append(b",")
            pieces.append(bytes(memoryview(orjson.dumps(item))))  # copied: see below
            value[index] = None
        pieces.append(b"]")
    elif kind is list and len(value) > SLICE:
        pieces.append(b"[")
        for start in range(0, len(value), SLICE):
            end = min(start + SLICE, len(value))
            encoded = orjson.dumps(value[start:end])
            if start:
                pieces.append(b",")
            # the items without the slice's own brackets, copied to a bytes object of their own size: the one
            # orjson.dumps returns keeps its whole working buffer, up to twice what it holds
            pieces.append(bytes(memoryview(encoded)[1:-1]))
            value[start:end] = [None] * (end - start)
        pieces.append(b"]")
    else:
        pieces.append(orjson.dumps(value))


async def send_pieces(pieces: list[bytes]) -> AsyncIterator[bytes]:
    """The pieces in writes of about SEND_BYTES, each piece let go once written."""
    batch: list[bytes] = []
    size = 0
    pieces.reverse()  # popped from the end: the list lets go of each piece as it is sent
    while pieces:
        piece = pieces.pop()
        batch.append(piece)
        size += len(piece)
        if size >= SEND_BYTES or not pieces:
            yield b"".join(batch)
            batch.clear()
            size = 0
