"""The trace viewer (web/): `/` and the pages it links to (`/executions/<id>`, with `?span=<id>`) answer
its index.html, and its modules and styles are under `/ui/`. The files ship in the package (located with
importlib.resources), so the page loads nothing from another host and works air-gapped.

The page and its assets carry no data and open without a key (like GraphiQL); everything the page shows
comes from the GraphQL API, which asks for one (the `vai_token` cookie the page sets at sign-in).
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles

PAGE_PATHS = frozenset({"/"})
PAGE_PREFIXES = ("/executions/", "/ui/")
# The page is the same for every route; a fresh copy each load so a new version's modules are picked up.
NO_CACHE = {"Cache-Control": "no-cache"}
SERVED_SUFFIXES = (".html", ".js", ".css", ".svg", ".png")


class _Assets(StaticFiles):
    """web/ holds the package marker too: serve the page's files, not Python."""

    def lookup_path(self, path: str) -> tuple[str, object]:  # type: ignore[override]
        if not path.endswith(SERVED_SUFFIXES):
            return "", None
        return super().lookup_path(path)


def web_dir() -> Path:
    # A regular package directory on every install kind setuptools makes (wheel or editable).
    with as_file(files("web")) as path:
        return Path(path)


def install(app: FastAPI) -> None:
    root = web_dir()
    index = root / "index.html"
    app.mount("/ui", _Assets(directory=root), name="viewer-assets")

    async def page() -> FileResponse:
        return FileResponse(index, media_type="text/html", headers=NO_CACHE)

    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/executions/{execution_id}", page, methods=["GET"], include_in_schema=False)
