"""Driving Debian's /usr/bin/chromium with Playwright for Python (never `playwright install`, which would
download a browser build): a launcher that skips loudly when either is missing, and a page that may reach
the server under test and nothing else, leaving a screenshot in tests/artifacts/ when its test fails."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.process import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT_MS = 30_000


def skip_loudly(reason: str) -> None:
    message = f"SKIPPED LOUDLY: {reason}; the browser tests did not run"
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


@contextmanager
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_loudly("the playwright package is not installed (dev extras)")
    if not CHROMIUM.exists():
        skip_loudly(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


class OfflinePage:
    """A fresh page that may reach the server and nothing else; it records what it tried."""

    def __init__(self, browser: Any, server: ServerProcess, name: str, **context: Any) -> None:
        self.server = server
        self.name = name
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, **context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(self.server.url + "/"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def assert_clean(self) -> None:
        """It tried to reach nothing but the server, and no script on it threw."""
        assert self.blocked == [], self.blocked
        assert self.errors == [], self.errors

    def screenshot(self, suffix: str = "") -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{self.name}{suffix}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def __enter__(self) -> OfflinePage:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            self.screenshot("-failed" if exc_type is not None else "")
        finally:
            self.context.close()
