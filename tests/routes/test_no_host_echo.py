"""No answer points a client at a host taken from the request's own headers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/get-folder-access/"), ("POST", "/get-validator-access/"), ("GET", "/livez/")],
)
def test_trailing_slash_is_not_redirected_to_the_host_header(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(
        method, path, headers={"Host": "attacker.example"}, follow_redirects=False
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "location" not in response.headers
    assert "attacker.example" not in response.text
