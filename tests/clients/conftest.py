"""The vendor SDK tests share one `tracehouse serve` process per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clients.sdk_server import KEY, NO_OTHER_HOST
from tests.process import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ServerProcess]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in NO_OTHER_HOST.items():
            patch.setenv(name, value)
            patch.setenv(name.lower(), value)
        process = ServerProcess(tmp_path_factory.mktemp("sdk") / "data", KEY, {"TRACEHOUSE_DATABASE_URL": database_url})
        process.start()
        try:
            yield process
        finally:
            process.stop()


