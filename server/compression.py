"""Response compression: zstd, brotli or gzip, whichever the client's Accept-Encoding allows (in that
order), by starlette-compress. A 10,000-span trace is ~13 MB of JSON; compressed it is a fraction.

Levels come from bench/compression.py (CPU ms vs bytes on a 10 MB 10k-span trace response): zstd 1
(4.8x in ~25 ms; level 3 was no smaller, 6 saved 1% for 5x the CPU), brotli 1 (4.5x in ~35 ms; quality 4
saved 8% for 5x the CPU), gzip 4 (4.6x in ~100 ms, the knee: level 1 is 17% bigger, 6 three times the
CPU). The middleware compresses on the event loop, so cheap levels also keep other requests moving.
Bodies under MINIMUM_SIZE are sent as they are, websockets are not touched, and only text-like types
(JSON, HTML, JS, CSS, ...) are compressed.
"""

from __future__ import annotations

from typing import Any

from starlette_compress import CompressMiddleware, add_compress_type

from server.graphql_http import GRAPHQL_RESPONSE_JSON

MINIMUM_SIZE = 1024
ZSTD_LEVEL = 1
BROTLI_QUALITY = 1
GZIP_LEVEL = 4

add_compress_type(GRAPHQL_RESPONSE_JSON)
# The export (server/export_routes.py): compressed, and flushed chunk by chunk as it streams.
add_compress_type("application/x-ndjson", streaming=True)


def compression_options() -> dict[str, Any]:
    return {
        "minimum_size": MINIMUM_SIZE,
        "zstd_level": ZSTD_LEVEL,
        "brotli_quality": BROTLI_QUALITY,
        "gzip_level": GZIP_LEVEL,
    }


__all__ = ["CompressMiddleware", "compression_options"]
