"""A fast path for completing objects whose selected fields need no Python resolver call of their own.

graphql-core costs ~8 µs per field (resolve info, argument handling, awaitable checks, completion); a
10,000-span trace selects 100,000 such fields. When every field selected on an object is a plain
attribute or a synchronous, argument-free method of its Strawberry type (the leaves of spans, edges,
usage, cost …), the object is completed here in one tight loop with the same serializers. Anything else
(arguments, async resolvers, deferred fragments, abstract types, a null in a non-null field, an Int past 32
bits, a stored text that does not parse) takes graphql-core's normal path, so results and errors stay exactly
what they would have been.

When the operation's context asks for it (`encode_items_early`: HTTP requests, whose result goes straight to
orjson), the items of a list of objects are encoded to JSON as soon as they are completed, CHUNK at a time,
and kept as `orjson.Fragment`s (a chunk's items without its brackets; orjson writes a Fragment's bytes as
they are, between commas, so the encoded response is byte for byte the same): a 50,000-span page then
never holds 50,000 completed dicts (and the dicts, usage, cost … below them) at once, only their bytes, and
the cyclic collector has a fraction of the objects to walk. One orjson call per chunk, not per item: per
item, the calls and the copies cost ~2 µs a span, a quarter of a 1,000-span request's Python time. The
completed list then holds chunks, not items: only the encoder reads it. Results that Python code reads
(subscriptions, tests, the REST views) keep plain dicts.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from strawberry import Schema

import adapters.graphql_core_internals  # noqa: F401  (complete_object_value is overridden below)
from adapters.strawberry_internals import (
    TYPE_CAST_ATTRIBUTE,
    StrawberryGraphQLCoreExecutionContext,
    StrawberryObjectDefinition,
)
from graph.connection import Edges

Getter = Callable[[Any], Any]
Plan = Callable[[Any], dict[str, Any]]


_SHARED_PLANS: OrderedDict[tuple[str, tuple[int, ...], bytes, bool, bool], tuple[tuple[Any, ...], Plan | None]] = (
    OrderedDict()
)
_SHARED_PLANS_LIMIT = 4096


class _Fallback(Exception):
    """Raised inside a plan when the normal path must decide (a null where the schema forbids one)."""


class FastField:
    """How to read one field: an attribute name, or a synchronous method taking only `self`."""

    __slots__ = ("attribute", "method", "python_name")

    def __init__(self, attribute: str | None = None, method: Getter | None = None, python_name: str = "") -> None:
        self.attribute = attribute
        self.method = method
        self.python_name = python_name or attribute or ""  # the attribute's or the method's name


def fast_fields(schema: Schema) -> dict[str, dict[str, FastField]]:
    """Per GraphQL object type, the fields that can be read without the resolver machinery."""
    out: dict[str, dict[str, FastField]] = {}
    for name, entry in schema.schema_converter.type_map.items():
        definition = getattr(entry, "definition", None)
        if not isinstance(definition, StrawberryObjectDefinition) or definition.is_input:
            continue
        fields: dict[str, FastField] = {}
        for field in definition.fields:
            if field.arguments or field.extensions or field.permission_classes:
                continue
            graphql_name = schema.config.name_converter.get_graphql_name(field)
            resolver = field.base_resolver
            if resolver is None:
                fields[graphql_name] = FastField(attribute=field.python_name)
                continue
            method = resolver.wrapped_func
            if resolver.is_async or isinstance(method, staticmethod | classmethod):
                continue
            if list(inspect.signature(method).parameters) == ["self"]:
                fields[graphql_name] = FastField(method=method, python_name=field.python_name)
        out[name] = fields
    return out


def own_type_checks(schema: Schema) -> dict[str, type]:
    """Object types whose `is_type_of` is the one Strawberry generates for implementers of an interface
    (Span, Execution … implement Node), with their Python class: an isinstance check that ignores its `info`
    argument, unless the object was `strawberry.cast` (strawberry 0.341, pinned in
    adapters/strawberry_internals.py). A type's own `is_type_of` takes the normal path."""
    out = {}
    for name, entry in schema.schema_converter.type_map.items():
        definition = getattr(entry, "definition", None)
        if isinstance(definition, StrawberryObjectDefinition) and definition.interfaces and not definition.is_type_of:
            out[name] = definition.origin
    return out


def _int_past_32_bits(value: Any, serialize: Callable[[Any], Any]) -> Any:
    if value.__class__ is int:
        raise _Fallback
    return serialize(value)


def _null(non_null: bool) -> None:
    if non_null:
        raise _Fallback
    return None


CHUNK = 64  # items of a list encoded by one orjson call (as fast as one call for the whole list)


class EncodedItems(list[orjson.Fragment]):
    """A list completed with its items encoded: orjson writes it as the list of the items (a Fragment's bytes as
    they are). `raw` holds each Fragment's bytes (the same objects), for an encoder that writes the response in
    pieces (server/json_body.py): it takes them as they are, where encoding each Fragment again cost orjson a
    fresh growing buffer a chunk, ~20 µs a 64 KiB chunk (~0.35 ms of a 1,000-span response, ~17 ms of 50,000)."""

    __slots__ = ("raw",)

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes | None] = []

    def add(self, completed: list[Any]) -> None:
        """Completed items as the bytes orjson writes for them inside a list (without the brackets). Copied to a
        bytes object of its own size: the one orjson.dumps returns keeps its whole working buffer, which made
        encoded spans take several times what their dicts did."""
        raw = bytes(memoryview(orjson.dumps(completed))[1:-1])
        self.raw.append(raw)
        self.append(orjson.Fragment(raw))


def encoded_items(complete: Callable[[Any], Any], items: Iterable[Any]) -> EncodedItems:
    """The items completed by `complete` and encoded CHUNK at a time: what orjson writes for the list of the
    completed items, holding at most CHUNK completed items at once."""
    out = EncodedItems()
    chunk: list[Any] = []
    for item in items:
        chunk.append(complete(item))
        if len(chunk) == CHUNK:
            out.add(chunk)
            chunk = []
    if chunk:
        out.add(chunk)
    return out


def encoded_objects(plan: Plan, non_null: bool, items: Iterable[Any], key: str | None = None) -> EncodedItems:
    """encoded_items of a list of objects completed by `plan`, a None item completed as a plan completes a null
    field (_null): the same, without a Python call of its own for each item. With `key`, the items are the nodes of
    a connection's edges whose selection is their node alone (`edges { node { … } }`), each edge written as
    `{key: its node completed}`: what the edge's own plan gives, without an Edge object and a plan call an item
    (~0.5 µs a span of a page)."""
    out = EncodedItems()
    chunk: list[Any] = []
    for item in items:
        completed: Any = None
        if item is not None:
            completed = plan(item)
        else:
            _null(non_null)  # raises where the item may not be null
        chunk.append(completed if key is None else {key: completed})
        if len(chunk) == CHUNK:
            out.add(chunk)
            chunk = []
    if chunk:
        out.add(chunk)
    return out


# Scalars whose serializer returns a value of this Python class unchanged: the built-in ones, and DateTime,
# whose serializer (graph/scalars.py format_datetime) returns text as it is (times ClickHouse formatted).
_PASS_THROUGH = {"String": str, "ID": str, "Boolean": bool, "Int": int, "Float": float, "DateTime": str}


RecordReads = tuple[type, dict[str, str], dict[str, Any], dict[str, str]]


def record_reads(schema: Schema) -> dict[str, RecordReads]:
    """Object types whose class declares how its fields read the record it wraps (FAST_RECORD_READS: an attribute's
    or a method's name -> source over `obj`, FAST_RECORD_NAMES: the names that source uses), with the class
    (graph/span.py), and FAST_RECORD_RECORDS: for a field whose type declares reads of its own, the source of that
    type's record (the field's value is then completed from it, without the object: graph/usage.py)."""
    out = {}
    for name, entry in schema.schema_converter.type_map.items():
        definition = getattr(entry, "definition", None)
        if isinstance(definition, StrawberryObjectDefinition):
            origin = definition.origin
            reads = getattr(origin, "FAST_RECORD_READS", None)
            if reads is not None:
                names = getattr(origin, "FAST_RECORD_NAMES", {})
                out[name] = (origin, reads, names, getattr(origin, "FAST_RECORD_RECORDS", {}))
    return out


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    fields: dict[str, dict[str, FastField]] = {}
    own_type_checks: dict[str, type] = {}
    record_reads: dict[str, RecordReads] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[str, int, bool, bool], tuple[Any, Plan | None]] = {}
        self._encode = getattr(self.context_value, "encode_items_early", False) is True

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan(return_type, field_details_list, self._encode)
        if plan is not None:
            try:
                return plan(result)
            except Exception:  # _Fallback, or a stored text that does not parse: the normal path completes it
                pass  # again, and reports what went wrong where it stands
        return super().complete_object_value(return_type, field_details_list, info, path, result, position_context)

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: Any,
        path: Any,
        items: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects graphql-core completes itself (a connection with an async `totalCount`, rootSpans
        …): with early encoding, its items are encoded as they are completed, as inside a plan. Anything the
        plan cannot answer (a null, an error, @stream) completes the whole list the normal way instead, so
        errors land on the item they belong to."""
        named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if self._encode and isinstance(named, GraphQLObjectType):
            plan = self._plan(named, field_details_list, False)
            if plan is not None and self.get_stream_usage(field_details_list, path) is None:
                if not isinstance(items, Sequence):
                    items = list(items)  # read twice when the normal way takes over
                try:
                    return encoded_items(plan, items)
                except Exception:  # the normal path completes it again, and reports what went wrong where
                    pass
        return super().complete_iterable_value(item_type, field_details_list, info, path, items, position_context)

    def _plan(
        self, object_type: GraphQLObjectType, field_details_list: Any, encode: bool, record: bool = False
    ) -> Plan | None:
        """`encode`: the plan's lists of objects hold their items encoded (orjson Fragments), not dicts. `record`:
        the plan completes the record an object of the type wraps, through the type's FAST_RECORD_READS (None
        when the selection reads anything else)."""
        key = (object_type.name, id(field_details_list), encode, record)
        cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        plan = self._shared_plan(object_type, field_details_list, encode, record)
        self._plans[key] = (field_details_list, plan)  # keep the list alive so its id stays unique
        return plan

    def _shared_plan(
        self, object_type: GraphQLObjectType, field_details_list: Any, encode: bool, record: bool
    ) -> Plan | None:
        """Plans outlive one execution: a subscription executes its document once per event, and frontends
        repeat the same documents. Keyed by the AST nodes (kept alive with the entry, so their ids stay
        unique) and the variables (which @skip/@include may read)."""
        nodes = tuple(d.node for d in field_details_list)
        # graphql-core 3.3 wraps the values in a VariableValues tuple whose repr (orjson's fallback) is slow
        values = getattr(self.variable_values, "coerced", self.variable_values)
        try:
            variables = orjson.dumps(values, option=orjson.OPT_SORT_KEYS, default=repr)
        except TypeError:
            variables = repr(values).encode()
        key = (object_type.name, tuple(id(n) for n in nodes), variables, encode, record)
        entry = _SHARED_PLANS.get(key)
        if entry is not None:
            _SHARED_PLANS.move_to_end(key)
            return entry[1]
        plan = self._build(object_type, field_details_list, encode, record)
        _SHARED_PLANS[key] = (nodes, plan)
        if len(_SHARED_PLANS) > _SHARED_PLANS_LIMIT:
            _SHARED_PLANS.popitem(last=False)
        return plan

    def _build(
        self, object_type: GraphQLObjectType, field_details_list: Any, encode: bool, record: bool = False
    ) -> Plan | None:
        """Compile a function returning the completed dict of one object, or None if it needs the normal path.

        The function is generated source (one dict display, attribute reads inlined) because a
        closure per field costs several calls per value, and these run once per field per object.
        With `record`, of the record an object of the type wraps: every selected field one that
        FAST_RECORD_READS reads off the record (an attribute, or a method's result), and no type check
        (Edges.record_type vouches for the class).
        """
        reads: dict[str, str] = {}
        records: dict[str, str] = {}
        check = ""
        if record:
            declared = self.record_reads.get(object_type.name)
            if declared is None:
                return None
            reads, records = declared[1], declared[3]
        elif object_type.is_type_of is not None:
            if object_type.name not in self.own_type_checks:
                return None
            # the same check the normal path makes; when it fails, the normal path reports it. An instance of the
            # type's own class that was not cast passes it: answered without the call (~0.25 µs a span).
            check = (
                "    if (obj.__class__ is not _own_class or _CAST in obj.__dict__) and not _is_type_of(obj, None):\n"
                "        raise _Fallback\n"
            )
        fields = self.fields.get(object_type.name)
        if not fields:
            return None
        grouped, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if new_defer_usages:
            return None
        env: dict[str, Any] = {
            "_null": _null, "_is_type_of": object_type.is_type_of, "_Fallback": _Fallback,
            "_encoded_objects": encoded_objects, "_own_class": self.own_type_checks.get(object_type.name),
            "_CAST": TYPE_CAST_ATTRIBUTE, "_Edges": Edges,
        }  # fmt: skip
        if record:
            env.update(self.record_reads[object_type.name][2])
        entries: list[str] = []
        for index, (response_key, details) in enumerate(grouped.items()):
            node = details[0].node
            if any(d.defer_usage is not None for d in details) or node.arguments:
                return None
            name = node.name.value
            if name == "__typename":
                entries.append(f"{response_key!r}: {object_type.name!r}")
                continue
            field = fields.get(name)
            if field is None:
                return None
            field_type = object_type.fields[name].type
            value = None
            if record:
                if field.python_name not in reads:
                    return None
                read = reads[field.python_name]
                # the field's own record, completed by its type's record plan: no object a value (usage, cost)
                if field.python_name in records:
                    value = self._value_source(field_type, details, f"x{index}", env, f"c{index}", encode, True)
                    if value is not None:
                        read = records[field.python_name]
            elif field.attribute is not None:
                read = f"obj.{field.attribute}"
            else:
                env[f"m{index}"] = field.method
                read = f"m{index}(obj)"
            if value is None:
                value = self._value_source(field_type, details, f"x{index}", env, f"c{index}", encode)
            if value is None:
                return None
            entries.append(f"{response_key!r}: ({value} if (x{index} := {read}) is not None else "
                           f"_null({isinstance(field_type, GraphQLNonNull)}))")  # fmt: skip
        source = "def plan(obj):\n" + check + "    return {" + ", ".join(entries) + "}\n"
        exec(compile(source, f"<fast plan {object_type.name}>", "exec"), env)
        return env["plan"]

    def _value_source(
        self,
        field_type: GraphQLOutputType,
        details: Any,
        var: str,
        env: dict[str, Any],
        name: str,
        encode: bool,
        record: bool = False,
    ) -> str | None:
        """Source completing the non-null value in `var`, or None when the type needs the normal path. With
        `encode`, the items of a list of objects are encoded as they are completed (what is below them is not
        encoded again: the item's bytes hold it). With `record`, objects are their type's records (its record
        plan completes them)."""
        inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if is_leaf_type(inner):
            env[name] = inner.serialize
            passthrough = _PASS_THROUGH.get(inner.name)
            if passthrough is int:
                # GraphQL's Int is 32-bit: a bigger int (a sum of token counts) takes the normal path, which
                # reports the error where it stands
                env["_int_past_32_bits"] = _int_past_32_bits
                return (
                    f"({var} if {var}.__class__ is int and -2147483648 <= {var} <= 2147483647 "
                    f"else _int_past_32_bits({var}, {name}))"
                )
            if passthrough is not None:
                env[f"{name}_t"] = passthrough
                return f"({var} if {var}.__class__ is {name}_t else {name}({var}))"
            if isinstance(inner, GraphQLEnumType):
                # a str that is one of the enum's values serializes to its name; anything else as usual
                env[f"{name}_m"] = {v.value: k for k, v in inner.values.items() if isinstance(v.value, str)}
                return f"({name}_m[{var}] if {var}.__class__ is str and {var} in {name}_m else {name}({var}))"
            return f"{name}({var})"
        if isinstance(inner, GraphQLObjectType):
            plan = self._plan(inner, details, encode, record)
            if plan is None:
                return None
            env[name] = plan
            return f"{name}({var})"
        if isinstance(inner, GraphQLList):
            item_type = inner.of_type
            named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
            encode_item = encode and isinstance(named, GraphQLObjectType)
            item = self._value_source(
                item_type, details, f"{var}i", env, f"{name}i", encode and not encode_item, record
            )
            if item is None:
                return None
            non_null = isinstance(item_type, GraphQLNonNull)
            completed = f"({item} if {var}i is not None else _null({non_null}))"
            if encode_item:  # `item` calls the item type's plan ({name}i) on the item: _encoded_objects does
                objects = f"_encoded_objects({name}i, {non_null}, {var})"
                node = self._node_alone(named, details, env, name)
                if node is None:
                    return objects
                key, node_non_null, record_type = node
                nodes = f"_encoded_objects({name}n, {node_non_null}, {var}.nodes(), {key!r})"
                if record_type is not None:  # the nodes' plan of their records: no node object a span
                    env[f"{name}t"] = record_type
                    nodes = f"(_encoded_objects({name}r, {node_non_null}, {var}.records(), {key!r}) " \
                        f"if {var}.record_type is {name}t else {nodes})"  # fmt: skip
                return f"({nodes} if {var}.__class__ is _Edges else {objects})"
            return f"[{completed} for {var}i in {var}]"
        return None

    def _node_alone(
        self, edge_type: GraphQLObjectType, details: Any, env: dict[str, Any], name: str
    ) -> tuple[str, bool, type | None] | None:
        """When the items' selection is a connection edge's `node` field alone (an attribute, no arguments or
        deferral, its type an object type with a plan), the node's plan in env[name + "n"], with the response key,
        whether the node may not be null and, when the selection reads only what the node type's
        FAST_RECORD_READS reads, its class (the records' plan in env[name + "r"]): the list's Edges are then
        completed from their nodes, or their records (encoded_objects with the key)."""
        if edge_type.is_type_of is not None:
            return None
        grouped, new_defer_usages, _ = self.collect_subfields(edge_type, details)
        if new_defer_usages or len(grouped) != 1:
            return None
        [(key, field_details)] = grouped.items()
        node = field_details[0].node
        field = self.fields.get(edge_type.name, {}).get(node.name.value)
        if node.name.value != "node" or node.arguments or field is None or field.attribute != "node":
            return None
        if any(d.defer_usage is not None for d in field_details):
            return None
        node_type = edge_type.fields["node"].type
        named = node_type.of_type if isinstance(node_type, GraphQLNonNull) else node_type
        if not isinstance(named, GraphQLObjectType):
            return None
        plan = self._plan(named, field_details, False)
        if plan is None:
            return None
        env[f"{name}n"] = plan
        record_plan = self._plan(named, field_details, False, record=True)
        if record_plan is not None:
            env[f"{name}r"] = record_plan
        record_type = self.record_reads[named.name][0] if record_plan is not None else None
        return key, isinstance(node_type, GraphQLNonNull), record_type


def install(schema: Schema) -> None:
    """Make the schema execute with the fast path."""
    FastExecutionContext.fields = fast_fields(schema)
    FastExecutionContext.own_type_checks = own_type_checks(schema)
    FastExecutionContext.record_reads = record_reads(schema)
    schema.execution_context_class = FastExecutionContext
