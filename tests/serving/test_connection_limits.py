"""Oversized heads, idle or slow sockets and connection floods cannot exhaust a worker."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

from app.http_protocol import MAX_HEADER_BYTES, MAX_HEADER_COUNT
from bench.server import ServiceProcess
from tests.serving.conftest import MAX_CONNECTIONS

# Every wait below is a bound on a hang, never a measured duration.
SOCKET_WAIT_SECONDS = 10


def connect(service: ServiceProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=SOCKET_WAIT_SECONDS)
    return sock


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; a reset ends the answer too."""
    chunks = []
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_and_body(answer: bytes) -> tuple[int, dict[str, str]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def livez(service: ServiceProcess) -> int:
    """/livez's status, given a moment for sockets a test just closed to be noticed."""
    status = 0
    for _ in range(50):
        try:
            with urllib.request.urlopen(
                service.base_url + "/livez", timeout=SOCKET_WAIT_SECONDS
            ) as r:
                return r.status
        except urllib.error.HTTPError as refused:
            status = refused.code
        time.sleep(0.1)
    return status


def send_head(sock: socket.socket, headers: list[tuple[str, str]]) -> None:
    lines = ["GET /livez HTTP/1.1", "Host: localhost", *(f"{n}: {v}" for n, v in headers)]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())


def test_a_head_over_the_limit_is_431(served: ServiceProcess) -> None:
    with connect(served) as sock:
        send_head(sock, [("X-Big", "a" * (MAX_HEADER_BYTES + 1))])
        status, body = status_and_body(read_answer(sock))

    assert status == 431
    assert body["code"] == "headers_too_large"
    assert livez(served) == 200


def test_too_many_headers_is_431(served: ServiceProcess) -> None:
    with connect(served) as sock:
        send_head(sock, [(f"X-H{i}", "v") for i in range(MAX_HEADER_COUNT + 1)])
        status, body = status_and_body(read_answer(sock))

    assert status == 431
    assert body["code"] == "headers_too_large"


def test_a_head_just_under_the_limit_is_served(served: ServiceProcess) -> None:
    with connect(served) as sock:
        send_head(sock, [("X-Big", "a" * (MAX_HEADER_BYTES - 200)), ("Connection", "close")])
        answer = read_answer(sock)

    assert answer.startswith(b"HTTP/1.1 200")


def test_huge_heads_sent_at_once_do_not_grow_the_worker(served: ServiceProcess) -> None:
    before = served.memory_mb()["rss_mb"]
    chunk = b"a" * (1024 * 1024)

    def flood() -> None:
        with contextlib.suppress(OSError), connect(served) as sock:
            sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: ")
            for _ in range(64):  # 64 MiB of one header value
                sock.sendall(chunk)

    threads = [threading.Thread(target=flood) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert livez(served) == 200
    # Eight 64 MiB heads buffered would be 512 MB; refused at 32 KiB they cost nothing.
    assert served.memory_mb()["rss_mb"] - before < 64


def test_a_socket_that_sends_nothing_is_closed(served: ServiceProcess) -> None:
    with connect(served) as sock:
        assert read_answer(sock) == b""


def test_a_head_that_never_ends_is_closed(served: ServiceProcess) -> None:
    with connect(served) as sock:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        assert read_answer(sock) == b""


def test_a_body_that_never_ends_is_closed(served: ServiceProcess) -> None:
    with connect(served) as sock:
        sock.sendall(b"POST /get-folder-access HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        assert read_answer(sock) == b""


@contextlib.contextmanager
def idle_sockets(service: ServiceProcess, count: int) -> Iterator[list[socket.socket]]:
    sockets = [connect(service) for _ in range(count)]
    try:
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_connections_beyond_the_cap_get_503_and_the_service_recovers(
    served: ServiceProcess,
) -> None:
    with idle_sockets(served, MAX_CONNECTIONS), connect(served) as extra:
        send_head(extra, [])
        status, body = status_and_body(read_answer(extra))

    assert status == 503
    assert body["code"] == "too_many_connections"
    assert livez(served) == 200
