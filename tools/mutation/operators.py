"""The mutants of a module's source: operator swaps, constant changes, SQL token changes, deleted statements.

String literals are mutated twice over: once as a whole (wrapped in XX) and once per SQL token they hold
(argMax/argMin, min/max, comparison, AND/OR, IN/NOT IN, quoted literals, numbers, FINAL), since in
storage/ the strings are the SQL that does the work.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_COMPARE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip
_BINARY: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
    ast.Mod: ast.Mult, ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr, ast.Pow: ast.Mult,
}  # fmt: skip

# (pattern, replacement or function of the match) applied to each string literal, one match per mutant
_SQL: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (r"\bargMax", "argMin"),
    (r"\bargMin", "argMax"),
    (r"\bmin\(", "max("),
    (r"\bmax\(", "min("),
    (r"!=", "="),
    (r"(?<![!<>=])=(?!=)", "!="),
    (r">=", ">"),
    (r"<=", "<"),
    (r"(?<![<-])>(?!=)", ">="),
    (r"<(?![=-])", "<="),
    (r"\bAND\b", "OR"),
    (r"\bOR\b", "AND"),
    (r"\bNOT IN\b", "IN"),
    (r"(?<!NOT )\bIN\b", "NOT IN"),
    (r"\bASC\b", "DESC"),
    (r"\bDESC\b", "ASC"),
    (r" FINAL\b", ""),
    (r"'[^'{}(),\n]+'", "'XX'"),
    (r"''", "'XX'"),
    (r"(?<![\w%])\d+\b", lambda m: str(int(m.group()) + 1)),
]


@dataclass(frozen=True, slots=True)
class Mutant:
    index: int
    line: int
    description: str


def _is_docstring(parent: ast.AST | None, node: ast.AST) -> bool:
    body = getattr(parent, "body", None)
    return isinstance(parent, ast.Expr) or (isinstance(body, list) and bool(body) and body[0] is node)


class _Sites:
    """Walks a tree in a fixed order; each site is (node, change, description), the change applied in place."""

    def __init__(self, tree: ast.Module, skip_lines: set[int]) -> None:
        self.tree = tree
        self.skip_lines = skip_lines

    def __iter__(self) -> Iterator[tuple[int, Callable[[], None], str]]:
        yield from self._visit(self.tree, None, in_annotation=False)

    def _visit(
        self, node: ast.AST, parent: ast.AST | None, in_annotation: bool
    ) -> Iterator[tuple[int, Callable[[], None], str]]:
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import | ast.ImportFrom) or line in self.skip_lines:
            return
        if not in_annotation:
            yield from self._sites(node, parent, line)
        for field, value in ast.iter_fields(node):
            annotation = in_annotation or field in ("annotation", "returns")
            children = value if isinstance(value, list) else [value]
            for child in children:
                if isinstance(child, ast.AST):
                    yield from self._visit(child, node, annotation)

    def _sites(self, node: ast.AST, parent: ast.AST | None, line: int) -> Iterator[tuple[int, Callable[[], None], str]]:
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                swap = _COMPARE.get(type(op))
                if swap is not None:
                    yield line, _setter(node.ops, i, swap()), f"{type(op).__name__} -> {swap.__name__}"
        elif isinstance(node, ast.BoolOp):
            swap = ast.Or if isinstance(node.op, ast.And) else ast.And
            yield line, _attr(node, "op", swap()), f"{type(node.op).__name__} -> {swap.__name__}"
        elif isinstance(node, ast.BinOp | ast.AugAssign):
            swap = _BINARY.get(type(node.op))
            if swap is not None:
                yield line, _attr(node, "op", swap()), f"{type(node.op).__name__} -> {swap.__name__}"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield line, _replace_in(parent, node, node.operand), "not x -> x"
        elif isinstance(node, ast.Constant):
            yield from self._constant(node, parent, line)
        if isinstance(node, ast.Expr | ast.AugAssign | ast.Assign) and isinstance(
            parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.If | ast.For | ast.With
        ):
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                yield line, _replace_in(parent, node, ast.Pass()), f"delete statement ({type(node).__name__})"

    def _constant(self, node: ast.Constant, parent: ast.AST | None, line: int) -> Iterator[
            tuple[int, Callable[[], None], str]]:  # fmt: skip
        value = node.value
        if isinstance(value, bool):
            yield line, _attr(node, "value", not value), f"{value} -> {not value}"
        elif isinstance(value, int | float):
            yield line, _attr(node, "value", value + 1), f"{value} -> {value + 1}"
        elif isinstance(value, str) and not _is_docstring(parent, node):
            for pattern, replacement in _SQL:
                for match in re.finditer(pattern, value):
                    new = replacement if isinstance(replacement, str) else replacement(match)
                    mutated = value[: match.start()] + new + value[match.end() :]
                    around = _short(value[max(0, match.start() - 25) : match.end() + 10])
                    yield line, _attr(node, "value", mutated), f"SQL {match.group()!r} -> {new!r} in {around}"
            yield line, _attr(node, "value", f"XX{value}XX"), f"string {_short(value)} -> XX..XX"


def _short(value: str) -> str:
    text = " ".join(value.split())
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _attr(node: ast.AST, name: str, value: object) -> Callable[[], None]:
    return lambda: setattr(node, name, value)


def _setter(items: list[ast.AST], index: int, value: ast.AST) -> Callable[[], None]:
    return lambda: items.__setitem__(index, value)


def _replace_in(parent: ast.AST | None, old: ast.AST, new: ast.AST) -> Callable[[], None]:
    def change() -> None:
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = ast.copy_location(new, old)
                        return

    return change


def _skip_lines(source: str) -> set[int]:
    return {n for n, text in enumerate(source.splitlines(), 1) if "pragma: no mutate" in text}


def mutants(source: str) -> list[Mutant]:
    tree = ast.parse(source)
    return [Mutant(i, line, desc) for i, (line, _, desc) in enumerate(_Sites(tree, _skip_lines(source)))]


def mutated_tree(source: str, index: int) -> ast.Module:
    """The module's tree with mutant `index` applied (sites are enumerated on a fresh tree each time)."""
    tree = ast.parse(source)
    for i, (_, change, _) in enumerate(_Sites(tree, _skip_lines(source))):
        if i == index:
            change()
            return ast.fix_missing_locations(tree)
    raise IndexError(index)
