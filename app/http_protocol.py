"""uvicorn's httptools protocol with the limits a public listener needs.

uvicorn alone buffers a request head of any size, keeps a connection that never sends
a byte open forever, and accepts connections until the process runs out of file
descriptors, after which every request fails. This protocol:

- refuses a request head (request line and headers) over `MAX_HEADER_BYTES` or with
  more than `MAX_HEADER_COUNT` headers: 431;
- closes a connection whose request has not fully arrived `header_timeout` seconds after
  the connection opened or the request's first byte (idle keep-alive connections are
  closed by uvicorn after `timeout_keep_alive`);
- answers a connection beyond `max_connections` with 503 at once and closes it, so the
  descriptor is freed and the limit is reached long before the process's own;
- sends a response's head together with its first body bytes: uvicorn writes them apart,
  two system calls and two packets for every answer, each waking the client.

`configure(settings)` sets the limits once per process, before uvicorn opens its socket.
"""

from __future__ import annotations

import asyncio
import json
import resource
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from config import Settings

MAX_HEADER_BYTES = 32 * 1024
MAX_HEADER_COUNT = 100
# Descriptors kept for everything but client sockets: S3 and Redis pools, the database,
# log files, the listening socket.
RESERVED_DESCRIPTORS = 128
MAX_AUTOMATIC_CONNECTIONS = 4096
# How long a connection refused for its head is drained before closing, so the client
# reads the 431 instead of a reset.
REFUSAL_LINGER_SECONDS = 0.5


def raise_descriptor_limit() -> int:
    """Raise the soft descriptor limit to the hard one; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def automatic_max_connections(soft_limit: int) -> int:
    return max(8, min(MAX_AUTOMATIC_CONNECTIONS, soft_limit - RESERVED_DESCRIPTORS))


def _answer(status: int, reason: str, detail: str, code: str) -> bytes:
    body = json.dumps({"detail": detail, "code": code}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    return head + body


TOO_MANY_CONNECTIONS = _answer(
    503,
    "Service Unavailable",
    "The service has too many open connections; retry shortly.",
    "too_many_connections",
)
HEADERS_TOO_LARGE = _answer(
    431,
    "Request Header Fields Too Large",
    f"The request line and headers must fit in {MAX_HEADER_BYTES} bytes and "
    f"{MAX_HEADER_COUNT} headers.",
    "headers_too_large",
)


class _HeadCatcher:
    """The transport, as uvicorn sees it while it writes a response head."""

    __slots__ = ("head",)

    def __init__(self) -> None:
        self.head = b""

    def write(self, data: bytes) -> None:
        self.head += data


class _HeadFirst:
    """The transport, as uvicorn sees it while it writes the first body bytes."""

    __slots__ = ("head", "transport")

    def __init__(self, transport: asyncio.Transport, head: bytes) -> None:
        self.transport = transport
        self.head = head

    def write(self, data: bytes) -> None:
        head, self.head = self.head, b""
        self.transport.write(head + data if head else data)

    def close(self) -> None:
        if self.head:
            self.write(b"")
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()


class OneWriteCycle(RequestResponseCycle):
    """uvicorn's request cycle, holding the response head until the body's first bytes."""

    held_head: bytes | None = None

    async def send(self, message: Any) -> None:
        kind = message["type"]
        if kind == "http.response.start" and not self.response_started:
            transport, catcher = self.transport, _HeadCatcher()
            self.transport = catcher  # type: ignore[assignment]
            try:
                await super().send(message)
            finally:
                self.transport = transport
            if catcher.head:
                self.held_head = catcher.head
            return
        if kind == "http.response.body" and self.held_head is not None:
            transport, head = self.transport, self.held_head
            self.held_head = None
            first = _HeadFirst(transport, head)
            self.transport = first  # type: ignore[assignment]
            try:
                await super().send(message)
            finally:
                self.transport = transport
                if first.head and not self.disconnected:
                    transport.write(first.head)  # nothing was written: the head alone
            return
        await super().send(message)


class GuardedHttpProtocol(HttpToolsProtocol):
    max_connections = MAX_AUTOMATIC_CONNECTIONS
    header_timeout = 10.0

    @classmethod
    def configure(cls, settings: Settings) -> None:
        soft_limit = raise_descriptor_limit()
        cls.max_connections = settings.max_connections or automatic_max_connections(soft_limit)
        cls.header_timeout = settings.header_timeout_seconds

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._awaiting_head = True
        # Bytes received since the head began (bounds what the parser buffers while the
        # head is incomplete), and the size of the head's parsed parts (the exact bound).
        self._received_in_head = 0
        self._head_size = 0
        self._head_count = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        crowded = len(self.connections) >= self.max_connections
        super().connection_made(transport)
        if crowded:
            # Closed at once: lingering here would hold the very descriptors the cap saves.
            self._refused = True
            transport.write(TOO_MANY_CONNECTIONS)
            transport.close()
            return
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # drained, so the refusal is read rather than reset
        if self._deadline is None and self._awaiting_head:
            self._arm_deadline()  # the first byte of a request on a kept-alive connection
        if self._awaiting_head:
            self._received_in_head += len(data)
        super().data_received(data)
        if self._awaiting_head and self._received_in_head > MAX_HEADER_BYTES:
            self._refuse(HEADERS_TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._awaiting_head = True
        self._head_size = 0
        self._head_count = 0

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_count += 1
        self._head_size += len(name) + len(value) + 4
        if self._head_count <= MAX_HEADER_COUNT:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        if self._head_size > MAX_HEADER_BYTES or self._head_count > MAX_HEADER_COUNT:
            self._refuse(HEADERS_TOO_LARGE)
            return
        self._awaiting_head = False
        self._received_in_head = 0
        super().on_headers_complete()
        if type(self.cycle) is RequestResponseCycle:
            # uvicorn builds the cycle itself; its task has not run yet, so swapping the
            # class (a subclass with no state of its own) changes only how it writes.
            self.cycle.__class__ = OneWriteCycle

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._disarm_deadline()
        self._awaiting_head = True
        super().on_message_complete()

    def _arm_deadline(self) -> None:
        self._disarm_deadline()
        self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            # A request still running sees a disconnect, which the app answers quietly.
            self.transport.close()

    def _refuse(self, answer: bytes) -> None:
        self._refused = True
        self._disarm_deadline()
        if self.transport.is_closing():
            return
        self.transport.write(answer)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(REFUSAL_LINGER_SECONDS, self.transport.close)
