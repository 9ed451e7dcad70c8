"""Response compression: zstd, brotli or gzip, whichever the client's Accept-Encoding allows (in that
order), by starlette-compress. A 10,000-span trace is ~13 MB of JSON; compressed it is a fraction.

Levels come from bench/compression.py (level vs bytes vs milliseconds on that trace's response): the
lowest level past which a step up buys little size for its CPU. Bodies under MINIMUM_SIZE are sent as
they are (not worth a frame), websockets are not touched, and only text-like types (JSON, HTML, JS,
CSS, ...) are compressed.
"""

from __future__ import annotations

from typing import Any

from starlette_compress import CompressMiddleware, add_compress_type

from server.graphql_http import GRAPHQL_RESPONSE_JSON

MINIMUM_SIZE = 1024
ZSTD_LEVEL = 3
BROTLI_QUALITY = 4
GZIP_LEVEL = 4

add_compress_type(GRAPHQL_RESPONSE_JSON)


def compression_options() -> dict[str, Any]:
    return {
        "minimum_size": MINIMUM_SIZE,
        "zstd_level": ZSTD_LEVEL,
        "brotli_quality": BROTLI_QUALITY,
        "gzip_level": GZIP_LEVEL,
    }


__all__ = ["CompressMiddleware", "compression_options"]
