"""The `tracehouse` command: `serve`, and `keys create --tenant NAME`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from server.settings import Settings


def _serve(settings: Settings) -> None:
    import uvicorn

    from server.app import create_app

    # No per-request access log: it costs more than a small ingest request itself.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", access_log=False)


async def _create_key(settings: Settings, tenant: str) -> str:
    import asyncpg

    from server.state import start_postgres
    from storage.postgres import keys, migrations

    dsn, embedded = await start_postgres(settings)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await migrations.migrate(conn)
            return await keys.create_key(conn, tenant)
        finally:
            await conn.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tracehouse", description="Trace store for LLM and agent workflows")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the server (GraphiQL at /graphql)")
    keys_parser = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys_parser.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create the tenant if needed and print a new API key")
    create.add_argument("--tenant", required=True, help="tenant name")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    if args.command == "serve":
        _serve(settings)
        return 0
    key = asyncio.run(_create_key(settings, args.tenant))
    print(f"created a key for tenant {args.tenant!r}; it is shown only once:", file=sys.stderr)
    print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
