"""A response's head goes out with its first body bytes: one write, not two."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from app.http_protocol import GuardedHttpProtocol


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def answer(body_messages: list[dict[str, Any]], request: bytes) -> list[bytes]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/plain"),
            (b"content-length", str(sum(len(m.get("body", b"")) for m in body_messages)).encode()),
        ]})  # fmt: skip
        for message in body_messages:
            await send({"type": "http.response.body", **message})

    config = Config(app, lifespan="off", log_config=None)
    config.load()
    protocol = GuardedHttpProtocol(config, ServerState(), app_state={})
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(request)
    for _ in range(20):
        await asyncio.sleep(0.01)
    protocol.connection_lost(None)
    return transport.writes


GET = b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n"


def test_head_and_body_leave_in_one_write() -> None:
    writes = asyncio.run(answer([{"body": b"hello"}], GET))
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b"\r\n\r\nhello")


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([{"body": b"ab", "more_body": True}, {"body": b"cd"}], [b"ab", b"cd"]),
        ([{"body": b""}], [b""]),
    ],
)
def test_later_body_parts_follow_as_they_come(
    messages: list[dict[str, Any]], expected: list[bytes]
) -> None:
    writes = asyncio.run(answer(messages, GET))
    assert len(writes) == len(expected)
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(expected[0])
    assert writes[1:] == expected[1:]


def test_a_head_request_still_gets_its_head() -> None:
    writes = asyncio.run(answer([{"body": b""}], b"HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n"))
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b"\r\n\r\n")
