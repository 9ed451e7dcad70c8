"""`python -m graph.export` prints the SDL that `schema.graphql` holds."""

from __future__ import annotations

from graph.schema import schema


def sdl() -> str:
    return schema.as_str() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
