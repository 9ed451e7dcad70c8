"""The `tracehouse` command: `serve`, and `keys create|list|revoke`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from server.settings import Settings, SettingsError


def _serve(settings: Settings) -> None:
    import uvicorn

    from server import logs
    from server.app import create_app
    from server.ws_protocol import BatchingWebSocketProtocol

    logs.configure(settings.log_format)
    # uvicorn's access log is replaced by ours (server/observe.py), which carries the request id
    # No per-message deflate: live messages are small, and compressing each one for each subscriber was a
    # fifth of the server's time under load.
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False,
        ws_per_message_deflate=False, ws=BatchingWebSocketProtocol,
    )  # fmt: skip


async def _keys(settings: Settings, args: argparse.Namespace) -> list[str]:
    """Run a `keys` subcommand against the configured (or embedded) Postgres; returns lines to print."""
    import asyncpg

    from server.state import start_postgres
    from storage.postgres import keys, migrations

    dsn, embedded = await start_postgres(settings)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await migrations.migrate(conn)
            if args.keys_command == "create":
                scopes = tuple(s.strip() for s in args.scopes.split(",") if s.strip())
                unknown = set(scopes) - set(keys.SCOPES)
                if unknown or not scopes:
                    raise SystemExit(f"--scopes must be a comma-separated subset of {', '.join(keys.SCOPES)}")
                return [await keys.create_key(conn, args.tenant, scopes)]
            if args.keys_command == "list":
                return [
                    f"{k.id}  {k.tenant}  {k.prefix}…  {','.join(k.scopes)}  created {k.created_at:%Y-%m-%d %H:%M}"
                    + (f"  REVOKED {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "")
                    for k in await keys.list_keys(conn, args.tenant)
                ]
            revoked = await keys.revoke_key(conn, args.key)
            if not revoked:
                raise SystemExit(f"no active key matches {args.key!r}")
            return [f"revoked {revoked} key; it stops working within a few seconds"]
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
    create.add_argument("--scopes", default="admin", help="comma-separated: ingest, read, admin (default admin)")
    listing = keys_sub.add_parser("list", help="list keys (prefix, scopes, created, revoked)")
    listing.add_argument("--tenant", help="only this tenant's keys")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id, by the key itself, or by its listed prefix")
    revoke.add_argument("key")
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        # a configuration mistake, not a crash: say which variables are wrong, no traceback
        print(f"tracehouse: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        _serve(settings)
        return 0
    logging.basicConfig(level=logging.WARNING)
    if settings.database_url is None and not (settings.embedded_postgres_dir / "PG_VERSION").exists():
        # A key goes into the store of this data dir: one made for another dir gets 401 from the server.
        print(f"tracehouse: no store in {settings.data_dir} yet: creating one there; run the server with the "
              "same TRACEHOUSE_DATA_DIR (or from this directory) for this key to work", file=sys.stderr)  # fmt: skip
    lines = asyncio.run(_keys(settings, args))
    if args.keys_command == "create":
        print(f"created a key for tenant {args.tenant!r}; it is shown only once:", file=sys.stderr)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
