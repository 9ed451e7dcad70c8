"""Columns of Python values as one Arrow stream, for chDB's streaming insert (chdb_inserts.py).

Why: clickhouse-connect serializes an insert row by row into ClickHouse's Native format in Python, ~3-4 µs an
event of the REST bulk path, all of it holding the GIL the event loop needs; pyarrow converts whole columns in C
(~1.5-2 µs an event for the same columns), and ClickHouse reads Arrow about as fast as Native. Each ClickHouse type
maps to one Arrow type here, chosen so the value stored is the value given; a type without a mapping is refused
(ValueError) rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.ipc as ipc

_SIMPLE: dict[str, pa.DataType] = {
    "String": pa.large_string(),  # 64-bit offsets: a commit's column of texts may pass 2 GiB
    "UInt8": pa.uint8(),
    "UInt16": pa.uint16(),
    "UInt32": pa.uint32(),
    "UInt64": pa.uint64(),
    "Int8": pa.int8(),
    "Int16": pa.int16(),
    "Int32": pa.int32(),
    "Int64": pa.int64(),
    "Float32": pa.float32(),
    "Float64": pa.float64(),
    "Bool": pa.bool_(),
}
# Python datetimes hold microseconds: a DateTime64 of precision 0 to 6 gets them as microseconds (ClickHouse drops
# the digits its precision has no room for, as clickhouse-connect does); 7 to 9 would need what Python lacks.
_DATETIME64 = re.compile(r"DateTime64\(\s*([0-6])\s*(?:,\s*'([^']*)'\s*)?\)")


def arrow_type(clickhouse_type: str) -> pa.DataType:
    """The Arrow type whose values ClickHouse stores unchanged in a column of `clickhouse_type`."""
    name = clickhouse_type.strip()
    for wrapper in ("Nullable(", "LowCardinality("):
        if name.startswith(wrapper) and name.endswith(")"):
            return arrow_type(name[len(wrapper) : -1])
    if name in _SIMPLE:
        return _SIMPLE[name]
    match = _DATETIME64.fullmatch(name)
    if match:
        return pa.timestamp("us", tz=match.group(2) or "UTC")
    raise ValueError(f"no Arrow mapping for ClickHouse type {clickhouse_type}")


def nullable(clickhouse_type: str) -> bool:
    name = clickhouse_type.strip()
    if name.startswith("LowCardinality(") and name.endswith(")"):
        name = name[len("LowCardinality(") : -1]
    return name.startswith("Nullable(")


def arrow_stream(names: Sequence[str], types: Sequence[str], columns: Sequence[Sequence[object]]) -> bytes:
    """One Arrow IPC stream (a single record batch) of `columns`, each a sequence of one column's values.
    A None in a column that is not Nullable is refused (ValueError), as ClickHouse would refuse it."""
    if not (len(names) == len(types) == len(columns)):
        raise ValueError(f"{len(names)} names, {len(types)} types and {len(columns)} columns")
    arrays = []
    fields = []
    for name, clickhouse_type, values in zip(names, types, columns, strict=True):
        kind = arrow_type(clickhouse_type)
        if kind == pa.large_string() and values.count("") == len(values):
            array = _empty_strings(len(values))
        else:
            array = pa.array(values, kind)
        if array.null_count and not nullable(clickhouse_type):
            raise ValueError(f"column {name} ({clickhouse_type}) cannot hold None")
        arrays.append(array)
        fields.append(pa.field(name, kind, nullable=nullable(clickhouse_type)))
    schema = pa.schema(fields)
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, schema) as writer:
        writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return bytes(sink.getvalue().to_pybytes())


def _empty_strings(count: int) -> pa.Array:
    """A column of '' (most of a batch's optional fields): its buffers at once, without reading `count` values."""
    return pa.LargeStringArray.from_buffers(count, pa.py_buffer(bytes(8 * (count + 1))), pa.py_buffer(b""))
