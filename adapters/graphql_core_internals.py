"""graphql-core internals Tracehouse builds on: `Executor.complete_object_value` and
`Executor.complete_iterable_value`, overridden by graph/fast_execution.py to complete plain objects in one
compiled step (and encode a list's items as they are completed), and `get_stream_usage` it asks. Their
signatures changed within 3.3's pre-releases, so the parameters are checked too."""

from __future__ import annotations

import inspect

from adapters import UnsupportedVersion, require

VERSION = require("graphql-core", ">=3.3.2,<3.4")

from graphql.execution.executor import Executor  # noqa: E402

COMPLETE_OBJECT_VALUE = ["self", "return_type", "field_details_list", "info", "path", "result", "position_context"]
if list(inspect.signature(Executor.complete_object_value).parameters) != COMPLETE_OBJECT_VALUE:
    raise UnsupportedVersion("graphql-core's Executor.complete_object_value changed its parameters")
COMPLETE_ITERABLE_VALUE = ["self", "item_type", "field_details_list", "info", "path", "items", "position_context"]
if list(inspect.signature(Executor.complete_iterable_value).parameters) != COMPLETE_ITERABLE_VALUE:
    raise UnsupportedVersion("graphql-core's Executor.complete_iterable_value changed its parameters")
if list(inspect.signature(Executor.get_stream_usage).parameters) != ["self", "field_details_list", "path"]:
    raise UnsupportedVersion("graphql-core's Executor.get_stream_usage changed its parameters")

__all__ = ["VERSION", "Executor"]
