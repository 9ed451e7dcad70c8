"""A pytest plugin that runs the collected tests once per mutant of one module, in this one process.

`-p tools.mutation.plugin --mutate=PATH --mutate-out=FILE [--mutate-from=N]`: each result is appended to
FILE as a JSON line as soon as it is known, so a mutant that hangs (the watchdog ends the process) costs
only itself: the driver records it as killed by timeout and starts again after it.
"""

from __future__ import annotations

import builtins
import importlib
import json
import os
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from tools.mutation.operators import mutants, mutated_tree

TIMEOUT_EXIT = 3


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mutation")
    group.addoption("--mutate", help="the module file to mutate, relative to the repository root")
    group.addoption("--mutate-out", help="JSON lines file the results are appended to")
    group.addoption("--mutate-from", type=int, default=0, help="first mutant index to run")
    group.addoption("--mutate-timeout", type=float, default=0.0, help="seconds a mutant may take (0: from baseline)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--mutate"):
        try:  # the same examples for every mutant, and no replay of another mutant's failures
            from hypothesis import Phase, settings

            # no shrinking either: a mutant is killed by the first failing example, the smallest one is not needed
            settings.register_profile(
                "mutation",
                derandomize=True,
                database=None,
                print_blob=False,
                phases=[Phase.explicit, Phase.generate],
                report_multiple_bugs=False,
            )
            settings.load_profile("mutation")
        except ImportError:
            pass


class _Swap:
    """Puts a mutated module's code into the live module's functions and names; `undo` puts it back."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.undo_steps: list[tuple[Any, str, Any]] = []

    def apply(self, code: types.CodeType) -> None:
        namespace: dict[str, Any] = {
            "__name__": self.module.__name__, "__file__": self.module.__file__,
            "__package__": self.module.__package__, "__builtins__": builtins,
        }  # fmt: skip
        exec(code, namespace)
        current = self.module.__dict__
        for name, new in namespace.items():
            if name.startswith("__") or name not in current:
                continue
            old = current[name]
            if isinstance(old, type) and isinstance(new, type):
                for attr, old_member in vars(old).items():
                    self._patch_function(old_member, vars(new).get(attr))
            elif isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType):
                self._patch_function(old, new)
            elif not _same(old, new):
                self._rebind(name, old, new)

    def _patch_function(self, old: Any, new: Any) -> None:
        old, new = _function(old), _function(new)
        if old is None or new is None or (old.__code__ == new.__code__ and old.__defaults__ == new.__defaults__):
            return
        for attr in ("__code__", "__defaults__", "__kwdefaults__"):
            self.undo_steps.append((old, attr, getattr(old, attr)))
        old.__code__, old.__defaults__, old.__kwdefaults__ = new.__code__, new.__defaults__, new.__kwdefaults__

    def _rebind(self, name: str, old: Any, new: Any) -> None:
        # the module's own name, and the same object imported by that name into any other module
        for module in list(sys.modules.values()):
            holder = getattr(module, "__dict__", None)
            if holder is not None and holder.get(name) is old:
                self.undo_steps.append((module, name, old))
                setattr(module, name, new)

    def undo(self) -> None:
        for target, attr, value in reversed(self.undo_steps):
            setattr(target, attr, value)
        self.undo_steps.clear()


def _function(value: Any) -> types.FunctionType | None:
    if isinstance(value, staticmethod | classmethod):
        value = value.__func__
    elif isinstance(value, property):
        value = value.fget
    while hasattr(value, "__wrapped__"):
        value = value.__wrapped__
    return value if isinstance(value, types.FunctionType) else None


def _same(old: Any, new: Any) -> bool:
    try:
        return type(old) is type(new) and bool(old == new)
    except Exception:
        return False


def _module_of(path: str) -> types.ModuleType:
    name = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    return importlib.import_module(name)


def _runs_a_server_process(item: pytest.Item) -> bool:
    """A test that starts `tracehouse serve` cannot see a mutant (that process imports the module from disk):
    it would only cost time."""
    code = getattr(getattr(item, "function", None), "__code__", None)
    return code is not None and "ServerProcess" in code.co_names


def _run_all(items: list[pytest.Item], stop_on_failure: bool) -> list[str]:
    """Runs the items (keeping session fixtures up); returns the ids of those that failed."""
    failed: list[str] = []
    for i, item in enumerate(items):
        # the real next item, else the first (so session fixtures stay up for the next mutant); the next
        # item may be skipped when this one fails, which tears down no more than it needs
        following = items[i + 1] if i + 1 < len(items) else items[0]
        reports = runtestprotocol(item, nextitem=following if following is not item else None, log=False)
        if any(r.failed for r in reports):
            failed.append(item.nodeid)
            if os.environ.get("MUTATION_DEBUG"):
                print(next(str(r.longrepr) for r in reports if r.failed)[-3000:], file=sys.stderr)
            if stop_on_failure:
                break
    return failed


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    config = session.config
    path = config.getoption("--mutate")
    if not path:
        return None
    out = Path(config.getoption("--mutate-out"))
    start = config.getoption("--mutate-from")
    items = session.items
    source = Path(path).read_text()
    module = _module_of(path)
    all_mutants = mutants(source)

    began = time.monotonic()
    failing = _run_all(items, stop_on_failure=False)
    failing += [i for i in _run_all(items, stop_on_failure=False) if i not in failing]  # fails when repeated
    baseline = time.monotonic() - began
    if failing:
        _write(out, {"baseline_failed": failing})
        return True
    _write(out, {"baseline_seconds": round(baseline / 2, 2), "mutants": len(all_mutants), "tests": len(items)})
    timeout = config.getoption("--mutate-timeout") or max(30.0, 5 * baseline / 2)
    swap = _Swap(module)
    for mutant in all_mutants[start:]:
        _write(out, {"started": mutant.index})
        code = compile(mutated_tree(source, mutant.index), str(Path(path).resolve()), "exec")
        watchdog = threading.Timer(timeout, os._exit, (TIMEOUT_EXIT,))
        watchdog.daemon = True
        watchdog.start()
        began = time.monotonic()
        try:
            swap.apply(code)
            killed_by = _run_all(items, stop_on_failure=True)
            if killed_by:  # the test that killed this mutant likely kills its neighbours: run it first
                killer = next(i for i in items if i.nodeid == killed_by[0])
                items = [killer, *(i for i in items if i is not killer)]
        except Exception as exc:  # the mutated module does not even load
            killed_by = [f"load: {type(exc).__name__}"]
        finally:
            swap.undo()
            watchdog.cancel()
        _write(out, {
            "index": mutant.index, "line": mutant.line, "description": mutant.description,
            "killed": bool(killed_by), "by": killed_by[:1], "seconds": round(time.monotonic() - began, 2),
        })  # fmt: skip
    return True


def _write(out: Path, record: dict[str, Any]) -> None:
    with out.open("a") as f:
        f.write(json.dumps(record) + "\n")
