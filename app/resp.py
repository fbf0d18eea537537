"""A small pipelined Redis client for the hot path: one connection, replies matched in order.

Each signed request sends one or two script calls. redis-py spends about 120 µs of CPU
per call (a pooled connection checked out and back, its parser, its retry wrapper); here a
call is one write to a shared connection and a future that the reply resolves, so any
number of concurrent requests share one socket and Redis sees them pipelined.

Deadlines cost no timer per call: each connection has one watchdog, armed while calls
wait. It gives up a connection that has been silent for SOCKET_TIMEOUT_SECONDS (every call
waiting on it fails, and the next call connects again) and fails a call still unanswered
at its deadline (CALL_DEADLINE_SECONDS after it was made, its retry included). A call that
finds its connection closed (Redis restarted) is sent once more on a new one.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from urllib.parse import unquote, urlsplit

from redis.exceptions import ResponseError

from app.stores import CALL_DEADLINE_SECONDS, SOCKET_TIMEOUT_SECONDS

Arg = str | int | bytes
Reply = int | bytes | str | None | list["Reply"]


class ReplyError(ResponseError):
    """Redis answered with an error (for example NOSCRIPT)."""


class _Incomplete(Exception):
    pass


def encode(args: tuple[Arg, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def parse(buffer: bytearray, pos: int) -> tuple[Reply | ReplyError, int]:
    """One RESP2 reply from `pos`: the value and where the next one starts."""
    end = buffer.find(b"\r\n", pos)
    if end < 0:
        raise _Incomplete
    kind, line, after = buffer[pos], bytes(buffer[pos + 1 : end]), end + 2
    if kind == 58:  # ':'
        return int(line), after
    if kind == 36:  # '$'
        size = int(line)
        if size < 0:
            return None, after
        if len(buffer) < after + size + 2:
            raise _Incomplete
        return bytes(buffer[after : after + size]), after + size + 2
    if kind == 42:  # '*'
        count = int(line)
        if count < 0:
            return None, after
        items: list[Reply] = []
        for _ in range(count):
            item, after = parse(buffer, after)
            items.append(item if not isinstance(item, ReplyError) else None)
        return items, after
    if kind == 43:  # '+'
        return line.decode(), after
    if kind == 45:  # '-'
        return ReplyError(line.decode(errors="replace")), after
    raise ConnectionError(f"unexpected reply from Redis: {line[:32]!r}")


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        # Each call's future and its deadline (loop time), in the order Redis answers.
        self.waiting: deque[tuple[asyncio.Future[Reply | ReplyError], float]] = deque()
        self.lost = False
        self.loop = asyncio.get_running_loop()
        # Since when the connection owes a reply without having sent one (loop time).
        self.quiet_since = self.loop.time()
        self.watchdog: asyncio.TimerHandle | None = None
        # Commands of one turn of the event loop go out in one write: one system call for
        # every request that reached Redis in that turn.
        self.outgoing: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.quiet_since = self.loop.time()
        self.buffer += data
        pos = 0
        while self.waiting:
            try:
                value, pos_after = parse(self.buffer, pos)
            except _Incomplete:
                break
            except (ConnectionError, ValueError) as exc:
                self.abort(ConnectionError(str(exc)))
                return
            pos = pos_after
            future = self.waiting.popleft()[0]
            if not future.done():  # a caller past its deadline has gone
                future.set_result(value)
        if pos:
            del self.buffer[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self.abort(ConnectionError(f"Redis closed the connection ({exc or 'end of stream'})"))

    def send(self, args: tuple[Arg, ...], deadline: float) -> asyncio.Future[Reply | ReplyError]:
        if self.lost or self.transport is None:
            raise ConnectionError("the Redis connection is closed")
        loop = self.loop
        future: asyncio.Future[Reply | ReplyError] = loop.create_future()
        if not self.waiting:
            self.quiet_since = loop.time()
        self.waiting.append((future, deadline))
        if self.watchdog is None:
            self.watchdog = loop.call_at(
                min(deadline, self.quiet_since + SOCKET_TIMEOUT_SECONDS), self._watch
            )
        if not self.outgoing:
            loop.call_soon(self._flush)
        self.outgoing.append(encode(args))
        return future

    def _watch(self) -> None:
        self.watchdog = None
        if self.lost or not self.waiting:
            return
        loop = self.loop
        now = loop.time()
        if now - self.quiet_since >= SOCKET_TIMEOUT_SECONDS:
            self.abort(ConnectionError("Redis did not answer in time"))
            return
        # A connection that answers is merely slow: only calls past their deadline fail;
        # their replies, when they come, are read and dropped in order.
        for future, deadline in self.waiting:
            if deadline <= now and not future.done():
                future.set_exception(TimeoutError("Redis did not answer before the deadline"))
        pending = [deadline for future, deadline in self.waiting if not future.done()]
        wake = self.quiet_since + SOCKET_TIMEOUT_SECONDS
        self.watchdog = loop.call_at(min([wake, *pending]), self._watch)

    def _flush(self) -> None:
        data, self.outgoing = b"".join(self.outgoing), []
        if not self.lost and self.transport is not None:
            self.transport.write(data)

    def abort(self, error: Exception) -> None:
        self.lost = True
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None
        while self.waiting:
            future = self.waiting.popleft()[0]
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.abort()


class RespClient:
    """redis://[[user]:password@]host[:port][/db], rediss://..., unix://path[?db=N]."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._unix = parts.path if parts.scheme == "unix" else None
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 6379
        self._ssl = ssl.create_default_context() if parts.scheme == "rediss" else None
        db = parts.path.strip("/") if parts.scheme != "unix" else ""
        for pair in parts.query.split("&"):
            if pair.startswith("db="):
                db = pair[3:]
        self._setup: list[tuple[Arg, ...]] = []
        if parts.password is not None:
            user = unquote(parts.username) if parts.username else None
            secret = unquote(parts.password)
            self._setup.append(("AUTH", user, secret) if user else ("AUTH", secret))
        if db and db != "0":
            self._setup.append(("SELECT", int(db)))
        self._connection: _Connection | None = None
        self._connecting = asyncio.Lock()

    async def _connect(self, deadline: float) -> _Connection:
        async with self._connecting:
            current = self._connection
            if current is not None and not current.lost:
                return current
            loop = asyncio.get_running_loop()
            async with asyncio.timeout_at(min(deadline, loop.time() + SOCKET_TIMEOUT_SECONDS)):
                if self._unix is not None:
                    _, connection = await loop.create_unix_connection(_Connection, self._unix)
                else:
                    _, connection = await loop.create_connection(
                        _Connection, self._host, self._port, ssl=self._ssl
                    )
                for command in self._setup:
                    reply = await connection.send(command, deadline)
                    if isinstance(reply, ReplyError):
                        connection.abort(ConnectionError("Redis refused the connection setup"))
                        raise reply
            self._connection = connection
            return connection

    async def execute(self, *args: Arg) -> Reply:
        """One command's reply; TimeoutError or ConnectionError by its deadline at the latest."""
        deadline = asyncio.get_running_loop().time() + CALL_DEADLINE_SECONDS
        connection = self._connection
        if connection is None or connection.lost:
            connection = await self._connect(deadline)
        try:
            reply = await connection.send(args, deadline)
        except ConnectionError:
            # A connection that died with a restarted Redis: once more, on a new one.
            reply = await (await self._connect(deadline)).send(args, deadline)
        if isinstance(reply, ReplyError):
            raise reply
        return reply

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.abort(ConnectionError("client closed"))
            self._connection = None


class Script:
    """EVALSHA, and EVAL (which also loads it) when Redis does not know the script."""

    def __init__(self, client: RespClient, text: str) -> None:
        self.client = client
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    async def __call__(self, keys: list[str], args: list[Arg]) -> Reply:
        try:
            return await self.client.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except ReplyError as error:
            if not str(error).startswith("NOSCRIPT"):
                raise
            return await self.client.execute("EVAL", self.text, len(keys), *keys, *args)
