"""Identical live subscriptions share one execution, and every subscriber writes in batches.

A hundred dashboards watching one execution with the same key and document would otherwise each decode,
merge and execute every update. Here the first subscriber's stream runs once and every subscriber of the
same (key, document, variables, operation) receives its results; each keeps its own queue, bounded in
messages and in bytes, so one slow client is cut off without slowing the others or growing memory. A
subscriber that joins a running stream first gets its own history (`includeExisting`), then the shared
items it does not already hold (resolvers/live.py, StreamTap, says why nothing is missed or doubled at the
switch). Streams resumed with `after`, and one-off operations, run privately but the same way, so every
subscriber writes what is queued for it at once.

A subscriber is cut off (SLOW_CONSUMER, then `complete`) when its queue is full, or when its socket takes
nothing for STALL_SECONDS (the transport's buffer stays over its high-water mark: the client stopped
reading). Being cut drops everything queued for it at once; the reason is written past the transport's
flow control, to wait in the socket buffer for when the client reads again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from graphql.error import GraphQLSyntaxError

from adapters.starlette_internals import WebSocketDisconnect, raw_send
from adapters.strawberry_internals import (
    BaseGraphQLTransportWSHandler,
    ExecutionResult,
    Operation,
    PreExecutionError,
    WebSocketDisconnected,
    _OperationStreamClosed,
    aclosing,
    starlette_websocket,
)
from graph.subscription import StreamTap
from server.ws_protocol import SEND_MANY

_SLOW = ExecutionResult(
    data=None,
    errors=[
        GraphQLError(
            "subscription closed: the client did not keep up with the stream and its buffer filled; "
            "resubscribe with the cursor of the last item received",
            extensions={"code": "SLOW_CONSUMER"},
        )
    ],
)
logger = logging.getLogger(__name__)
BATCH = 500  # at most this many messages in one socket write…
BATCH_BYTES = 256 * 1024  # …and about this many bytes: the transport holds one batch over its high-water mark
STALL_SECONDS = 10.0  # a subscriber whose socket takes nothing for this long is cut off, whatever it has queued
ITEM_OVERHEAD = 200  # bytes an item costs besides its encoded payload (the object, its message cache)
YIELD_EVERY = 100  # results a shared stream produces before it lets its members run


class _Item:
    """One result of a stream, its payload encoded once, its `next` message per operation id, and what the
    stream's tap said about it (the event behind it; whether it came from the store)."""

    __slots__ = ("_messages", "event_id", "history", "payload", "plain", "result", "size")

    def __init__(self, result: Any, tap: StreamTap | None = None) -> None:
        self.plain = isinstance(result, ExecutionResult)
        # a plain result lives on as its encoding only: a queued item holds its bytes, not the data as objects
        self.result = None if type(result) is ExecutionResult else result
        self.event_id = tap.event_id if tap is not None else None
        self.history = tap.history if tap is not None else False
        self.payload = b""
        if isinstance(result, ExecutionResult):
            payload: dict[str, Any] = {"data": result.data}
            if result.errors:
                payload["errors"] = [e.formatted for e in result.errors]
            if result.extensions:
                payload["extensions"] = result.extensions
            self.payload = orjson.dumps(payload)
        self._messages: dict[bytes, bytes] = {}
        self.size = len(self.payload) + ITEM_OVERHEAD

    def message(self, prefix: bytes) -> bytes:
        """The graphql-transport-ws `next` message; subscribers mostly share their operation id."""
        message = self._messages.get(prefix)
        if message is None:
            message = self._messages[prefix] = prefix + self.payload + b"}"
        return message


_SLOW_ITEM = _Item(_SLOW)
_END = _Item(None)


@lru_cache(maxsize=512)
def _is_plain_subscription(query: str) -> bool:
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return (
        len(operations) == 1
        and operations[0].operation == OperationType.SUBSCRIPTION
        and "after" not in query  # a resumed stream replays from its own cursor
    )


@dataclass(eq=False)
class _Member:
    """One subscriber of a stream: its queue of items, written out in batches by its own operation."""

    queue: asyncio.Queue[_Item] = field(default_factory=asyncio.Queue)
    queued_bytes: int = 0
    running: StreamTap | None = None  # for a late joiner: the tap of the stream it joined
    catching_up: bool = False  # a late joiner reading its own history: its queue may grow meanwhile
    room: asyncio.Event = field(default_factory=asyncio.Event)  # set whenever the member drained its queue
    cut: bool = False  # cut off: nothing more is queued for it, and it writes only the reason
    cut_event: asyncio.Event = field(default_factory=asyncio.Event)  # wakes its writer waiting on the socket

    def put(self, item: _Item) -> None:
        self.queue.put_nowait(item)
        self.queued_bytes += item.size

    def full(self, size: int, size_bytes: int) -> bool:
        return self.queue.qsize() >= size or self.queued_bytes >= size_bytes

    def cut_off(self) -> None:
        """Drop everything queued for this subscriber; what it gets next is SLOW_CONSUMER."""
        if self.cut:
            return
        self.cut = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queued_bytes = 0
        self.put(_SLOW_ITEM)
        self.cut_event.set()
        self.room.set()  # a private stream waiting for room finds out

    async def socket_takes_more(self, writable: asyncio.Event) -> bool:
        """Wait while the socket's buffer is over its high-water mark; False if it stays there STALL_SECONDS
        or this member is cut off meanwhile."""
        if writable.is_set() or self.cut:
            return not self.cut
        waiters = {asyncio.ensure_future(writable.wait()), asyncio.ensure_future(self.cut_event.wait())}
        try:
            await asyncio.wait(waiters, timeout=STALL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return writable.is_set() and not self.cut

    async def feed(self) -> AsyncIterator[list[_Item]]:
        """Everything queued so far (up to a batch), as one batch: a subscriber woken for a burst writes it at
        once."""
        queue = self.queue
        while True:
            batch = [await queue.get()]
            size = batch[0].size
            while len(batch) < BATCH and size < BATCH_BYTES and not queue.empty():
                item = queue.get_nowait()
                batch.append(item)
                size += item.size
            self.queued_bytes -= size
            self.room.set()
            end = next((i for i, item in enumerate(batch) if item is _END or item is _SLOW_ITEM), None)
            if end is None:
                yield batch
                continue
            if batch[end] is _SLOW_ITEM:
                end += 1
            if end:
                yield batch[:end]
            return


@dataclass(eq=False)
class _Shared:
    private: bool = False  # one member, which the stream waits for instead of cutting it off
    members: set[_Member] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    tap: StreamTap = field(default_factory=StreamTap)


Start = Callable[[StreamTap], Awaitable[Any]]


class SharedStreams:
    def __init__(self, queue_size: int, queue_bytes: int) -> None:
        self._queue_size = queue_size
        self._queue_bytes = queue_bytes
        self._streams: dict[tuple[str, ...], _Shared] = {}

    @staticmethod
    def key(handler: BaseGraphQLTransportWSHandler[Any, Any], operation: Operation[Any, Any]) -> tuple[str, ...] | None:
        principal = getattr(handler.context, "principal", None)
        if principal is None or not _is_plain_subscription(operation.query):
            return None
        variables = json.dumps(operation.variables or {}, sort_keys=True, default=str)
        return (principal.key_id, operation.query, variables, operation.operation_name or "")

    @contextlib.asynccontextmanager
    async def join(self, key: tuple[str, ...] | None, start: Start) -> AsyncIterator[_Member]:
        """Join the stream of `key`, starting it if needed; without a key the stream is private."""
        shared = self._streams.get(key) if key is not None else None
        member = _Member()
        if shared is not None:
            member.running, member.catching_up = shared.tap, True
        else:
            shared = _Shared(private=key is None)
            if key is not None:
                self._streams[key] = shared
            shared.task = asyncio.create_task(self._pump(key, shared, start))
        shared.members.add(member)
        try:
            yield member
        finally:
            shared.members.discard(member)
            if not shared.members:
                if key is not None and self._streams.get(key) is shared:
                    del self._streams[key]
                if shared.task is not None:
                    shared.task.cancel()

    async def _pump(self, key: tuple[str, ...] | None, shared: _Shared, start: Start) -> None:
        limit, limit_bytes = self._queue_size, self._queue_bytes
        try:
            source = await start(shared.tap)
            async with aclosing(source):
                produced = 0
                async for result in source:
                    produced += 1
                    if produced % YIELD_EVERY == 0:
                        # a big commit arrives as one burst of results: let members write some of it out
                        # before their queues fill, so only a member that truly stopped reading is cut off
                        await asyncio.sleep(0)
                    item = _Item(result, shared.tap)  # encoded once for every member
                    for member in list(shared.members):
                        if shared.private:
                            # a replay of history goes at the client's pace; a live stream that falls
                            # behind overflows the live bus and ends with SLOW_CONSUMER there; a client that
                            # stopped reading is cut off by its own writer (STALL_SECONDS)
                            while member.full(limit, limit_bytes) and not member.cut:
                                member.room.clear()
                                await member.room.wait()
                        elif member.queued_bytes >= limit_bytes or (
                            member.queue.qsize() >= limit and not member.catching_up
                        ):
                            member.cut_off()
                        if member.cut:
                            shared.members.discard(member)
                            continue
                        member.put(item)
        except Exception:  # resolver errors arrive as results; this is a bug, and members get `complete`
            logger.exception("live stream failed")
        finally:
            shared.tap.ready.set()  # a joiner waiting for a stream that failed early finds out by itself
            if key is not None and self._streams.get(key) is shared:
                del self._streams[key]
            for member in list(shared.members):
                member.put(_END)


class SharingTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        hub: SharedStreams = self.view.shared_streams  # type: ignore[attr-defined]
        key = hub.key(self, operation)  # None: a stream of its own, still written out in batches

        async def start(tap: StreamTap) -> Any:
            return await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=tap,  # per operation: the connection's context is shared by its operations
                operation_name=operation.operation_name,
            )

        try:
            async with hub.join(key, start) as member:
                skip = None
                if member.running is not None:
                    reflected = await self._send_own_history(operation, member, start)
                    if reflected is None:
                        return
                    member.catching_up = False
                    skip = lambda item: item.history or item.event_id in reflected  # noqa: E731
                await self._send_feed(operation, member, skip, first=member.running is None)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except (_OperationStreamClosed, WebSocketDisconnected, WebSocketDisconnect, OSError):
            return  # the client went away (OSError: uvicorn's ClientDisconnected): nothing to report
        except Exception as error:  # as Strawberry's own run_operation: report, complete, forget the operation
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    async def _send_own_history(self, operation: Operation[Any, Any], member: _Member, start: Start) -> set[str] | None:
        """A late joiner's history, read once the running stream is past its own read of the store; returns
        the events that history reflects, or None when the operation ended."""
        assert member.running is not None
        await member.running.ready.wait()
        own = StreamTap(history_only=True)
        source = await start(own)
        async with aclosing(source):
            items = [_Item(result) async for result in source]
        for i in range(0, len(items), BATCH):
            if not await self._send(operation, member, items[i : i + BATCH], first=i == 0):
                return None
        return own.reflected

    async def _send_feed(
        self, operation: Operation[Any, Any], member: _Member, skip: Callable[[_Item], bool] | None, first: bool
    ) -> None:
        async for batch in member.feed():
            items = [item for item in batch if not skip(item)] if skip is not None else batch
            if items and not await self._send(operation, member, items, first):
                return
            first = first and not items

    async def _send(self, operation: Operation[Any, Any], member: _Member, items: list[_Item], first: bool) -> bool:
        """Write the items as `next` messages in one go; False once the operation is over."""
        if first and isinstance(items[0].result, PreExecutionError):
            await self._handle_pre_execution_error(operation, items[0].result)
            return False
        if operation.completed:
            return False
        ws = starlette_websocket(self)
        extension = ws.scope.get("extensions", {}).get(SEND_MANY)
        # Starlette's WebSocket.send admits only standard messages: the extension goes to the raw ASGI send
        send_raw = raw_send(ws) if extension is not None else None
        prefix = b'{"id":' + orjson.dumps(operation.id) + b',"type":"next","payload":'
        stalled = send_raw is not None and not await member.socket_takes_more(extension["writable"])
        if stalled or items[-1] is _SLOW_ITEM:
            member.cut_off()
            await self._end_slow(operation, ws, send_raw, prefix)
            return False
        plain = next((i for i, item in enumerate(items) if not item.plain), None)
        messages = [item.message(prefix) for item in items[:plain]]
        if messages and send_raw is not None:
            await send_raw({"type": SEND_MANY, "texts": messages})
        else:
            for message in messages:
                await ws.send_text(message.decode())
        if plain is not None:
            await self._reject_incremental_delivery(operation)
            return False
        return True

    async def _end_slow(self, operation: Operation[Any, Any], ws: Any, send_raw: Any, prefix: bytes) -> None:
        """SLOW_CONSUMER, then `complete`: written past the transport's flow control, since the client may not
        be reading; the two small messages wait in the buffer for when it does."""
        operation.completed = True
        self.operations.pop(operation.id, None)  # as Strawberry does before an operation's last message
        messages = [_SLOW_ITEM.message(prefix), orjson.dumps({"id": operation.id, "type": "complete"})]
        if send_raw is not None:
            await send_raw({"type": SEND_MANY, "texts": messages, "force": True})
        else:
            for message in messages:
                await ws.send_text(message.decode())
