"""schema.graphql is the exported SDL: regenerate it with `make schema` when this fails."""

from __future__ import annotations

from pathlib import Path

from graph.export import sdl


def test_schema_file_matches_code() -> None:
    on_disk = (Path(__file__).parent.parent / "schema.graphql").read_text()
    assert on_disk == sdl(), "schema.graphql is stale: run `make schema`"
