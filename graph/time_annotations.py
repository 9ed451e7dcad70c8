"""The optional DateTime annotation and the `from` argument, declared once for every type that takes them.

`DateTime` (graph/scalars.py) is a strawberry.scalar() wrapper, which mypy does not take as a type: each
annotation built on it needs `type: ignore[valid-type]`, so the common ones are built here, once. (They go
when scalars.py declares DateTime as a NewType mapped through StrawberryConfig.scalar_map.)
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from graph.scalars import DateTime

OptionalDateTime: TypeAlias = DateTime | None  # type: ignore[valid-type]
# `from` is a Python keyword: the argument is `from_` in Python, `from` in the schema.
From: TypeAlias = Annotated[OptionalDateTime, strawberry.argument(name="from")]
RequiredDateTime: TypeAlias = DateTime  # type: ignore[valid-type]
RequiredFrom: TypeAlias = Annotated[RequiredDateTime, strawberry.argument(name="from")]
