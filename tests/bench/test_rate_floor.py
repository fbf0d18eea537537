"""The subnet hour's bare reference: an answer per request, each after one Redis round trip."""

from __future__ import annotations

import socket

import redis

from bench.rate_floor import bare_cpu_us, bare_server

ANSWER_END = b'{"status":"ok"}'


def _answers(connection: socket.socket, count: int) -> bytes:
    data = b""
    while data.count(ANSWER_END) < count:
        chunk = connection.recv(65536)
        assert chunk, "the bare server closed the connection"
        data += chunk
    return data


def test_bare_server_answers_every_request_after_one_redis_increment(shared_redis: str) -> None:
    client = redis.Redis.from_url(shared_redis)
    port = client.connection_pool.connection_kwargs["port"]
    with (
        bare_server(port) as (bare_port, _),
        socket.create_connection(("127.0.0.1", bare_port), timeout=5) as connection,
    ):
        connection.sendall(b"GET /livez HTTP/1.1\r\nHost: a\r\n\r\n")
        first = _answers(connection, 1)
        # Two requests in one segment, as a pipelining client sends them: two answers.
        connection.sendall(b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n" * 2)
        rest = _answers(connection, 2)
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert rest.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert int(client.get("bench:bare") or 0) == 3
    client.close()


def test_bare_cpu_is_measured_on_requests_the_server_really_answered(shared_redis: str) -> None:
    client = redis.Redis.from_url(shared_redis)
    port = client.connection_pool.connection_kwargs["port"]
    used = bare_cpu_us(port, rate=None, seconds=0.5)
    answered = int(client.get("bench:bare") or 0)
    client.close()
    assert answered > 50  # back to back for half a second
    assert used >= 0.0
