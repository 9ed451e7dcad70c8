"""The `tracehouse` command: `serve`, `keys create|list|revoke`, `tenants list|set-retention` and
`deletions list`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

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


_RETENTION = re.compile(r"^(\d+)\s*([dw]?)$")
FOREVER = ("forever", "none", "off", "unlimited")


def parse_retention(text: str) -> int | None:
    """`30d`, `30` (days), `4w`; `forever` (or none, off, unlimited) clears the tenant's own setting."""
    text = text.strip().lower()
    if text in FOREVER:
        return None
    match = _RETENTION.match(text)
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1) if match else 0
    if not 0 < days <= 36_500:
        raise SystemExit(f"retention must be days like 30d (or 4w), at most 36500d, or forever; got {text!r}")
    return days


async def _with_postgres(settings: Settings, fn: Callable[[Any], Awaitable[list[str]]]) -> list[str]:
    """Run fn(connection) against the configured (or embedded) Postgres, migrated; returns lines to print."""
    import asyncpg

    from server.state import start_postgres
    from storage.postgres import migrations

    dsn, embedded = await start_postgres(settings)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await migrations.migrate(conn)
            return await fn(conn)
        finally:
            await conn.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def _tenants(conn: Any, args: argparse.Namespace, default_days: int | None) -> list[str]:
    from storage.postgres import retention

    default = f"{default_days}d (TRACEHOUSE_RETENTION_DAYS)" if default_days else "forever"
    if args.tenants_command == "list":
        return [f"{name}  {tenant_id}  retention {f'{days}d' if days else default}"
                for name, tenant_id, days in await retention.list_tenants(conn)]  # fmt: skip
    days = parse_retention(args.retention)
    if not await retention.set_retention(conn, args.tenant, days):
        raise SystemExit(f"no tenant named {args.tenant!r} (`tracehouse tenants list` shows them)")
    kept = f"{days} days" if days else f"the default ({default})"
    return [f"tenant {args.tenant!r} keeps {kept}; a running server applies it within "
            f"TRACEHOUSE_RETENTION_CHECK_SECONDS, a starting one at once, to the data already stored too"]  # fmt: skip


async def _deletions(conn: Any, args: argparse.Namespace) -> list[str]:
    from storage.postgres import deletions

    return [
        f"{d.id}  {d.tenant}  {d.state}  {d.target}  {d.events} events  {d.executions} executions  "
        f"key {d.key_id}  {d.requested_at:%Y-%m-%d %H:%M:%S}  filter {d.filter}"
        for d in await deletions.list_deletions(conn, None, args.limit, args.tenant)
    ]


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
    tenants_parser = sub.add_parser("tenants", help="list tenants, set their retention")
    tenants_sub = tenants_parser.add_subparsers(dest="tenants_command", required=True)
    tenants_sub.add_parser("list", help="tenants with their retention")
    set_retention = tenants_sub.add_parser("set-retention", help="days of data a tenant keeps: 30d, 4w or forever")
    set_retention.add_argument("tenant", help="tenant name")
    set_retention.add_argument("retention", help="30d, 4w, or forever (back to TRACEHOUSE_RETENTION_DAYS)")
    deletions_parser = sub.add_parser("deletions", help="the record of deletions")
    deletions_sub = deletions_parser.add_subparsers(dest="deletions_command", required=True)
    listing_deletions = deletions_sub.add_parser("list", help="deletions, newest first: who, when, filter, rows")
    listing_deletions.add_argument("--tenant", help="only this tenant's deletions")
    listing_deletions.add_argument("--limit", type=int, default=50)
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
    if args.command == "tenants":
        print("\n".join(asyncio.run(_with_postgres(settings, lambda c: _tenants(c, args, settings.retention_days)))))
        return 0
    if args.command == "deletions":
        print("\n".join(asyncio.run(_with_postgres(settings, lambda c: _deletions(c, args)))))
        return 0
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
