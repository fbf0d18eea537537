"""A client that leaves mid-request is not an error: no 500, no traceback in the log."""

from __future__ import annotations

import socket
import time

from bench.server import ServiceProcess

ROUTE = "/get-folder-access"


def disconnect_mid_body(service: ServiceProcess) -> None:
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(
            b"POST /get-folder-access HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"coldkey": "5'
        )


def test_disconnects_mid_body_are_not_counted_or_logged_as_errors(
    served: ServiceProcess,
) -> None:
    log_lines_before = len(served.log_path.read_text().splitlines())
    for _ in range(50):
        disconnect_mid_body(served)
    # The service's count catches up once it has noticed every departure.
    answers = served.answers_by_status(ROUTE)
    for _ in range(100):
        if sum(answers.values()) >= 50:
            break
        time.sleep(0.05)
        answers = served.answers_by_status(ROUTE)

    assert answers["500"] == 0
    assert answers["499"] == 50
    new_lines = served.log_path.read_text().splitlines()[log_lines_before:]
    assert not [line for line in new_lines if "Traceback" in line or "ERROR" in line]
