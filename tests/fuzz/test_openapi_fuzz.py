"""Property-based fuzz of every operation in the OpenAPI schema, signed and unsigned.

The operations are read from the app's own schema, so endpoints added later are fuzzed
without touching this file. Bodies come from each operation's request schema (valid
shapes with hostile values) or are arbitrary bytes; requests are signed (btauth/1 or Tao v2) by a
registered validator, a registered miner or an unregistered key, or carry junk auth
headers, or none. Whatever is sent: no 5xx, and every refusal is `{"detail", "code"}`.
Examples are bounded and derandomized (the same on every run).
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from bittensor import http_auth
from bittensor.sp_core import Keypair
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from app.main import create_app
from config import Settings
from tests.conftest import Subnet
from tests.fuzz.schema_strategies import Hints, from_schema
from tests.signing import tao_headers

EXAMPLES_PER_OPERATION = 60
# Admins and on-demand customers hold this key, so bodies behind X-API-Key are parsed too.
FUZZ_API_KEY = "fuzz-api-key"
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# Endpoints that answer the same whatever is sent and carry no body to fuzz.
SKIPPED = {("get", "/docs"), ("get", "/metrics")}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = create_app(Settings(_env_file=None)).openapi()
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if (method, path) not in SKIPPED and not path.startswith("/docs"):
                found.append((method, path, operation))
    return found


OPENAPI_COMPONENTS = create_app(Settings(_env_file=None)).openapi().get("components", {})
OPERATIONS = _operations()


def body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    # Refs point at #/components/schemas/...; nested models may sit in the schema's $defs.
    schemas = {**OPENAPI_COMPONENTS.get("schemas", {}), **schema.get("$defs", {})}
    return {**schema, "components": {"schemas": schemas}}


def value_hints(subnet: Subnet) -> Hints:
    """Real values for fields the service looks up, so fuzzing gets past "unknown"."""
    hotkeys = st.sampled_from([m.hotkey.ss58_address for m in subnet.members])
    coldkeys = st.sampled_from([m.coldkey.ss58_address for m in subnet.members])
    source = st.sampled_from(["x", "reddit", "youtube", "", "x/../y"])
    key = st.one_of(
        st.builds(lambda c, n: f"data/x/{c}/{n}", coldkeys, st.text(max_size=20)),
        st.builds(lambda h, n: f"data/hotkey={h}/{n}", hotkeys, st.text(max_size=20)),
        st.text(max_size=40),
    )
    now = int(time.time())
    return {
        "hotkey": hotkeys,
        "miner_hotkey": hotkeys,
        "coldkey": coldkeys,
        "source": source,
        "keys": st.lists(key, max_size=5),
        "file_keys": st.lists(key, max_size=5),
        "timestamp": st.integers(now - 400, now + 100),
        "expiry": st.integers(now - 10, now + 200_000),
        "job_id": st.one_of(st.uuids().map(str), st.text(max_size=20)),
        "filename": st.builds(
            lambda rows, tail: f"data_20260805_141502_{rows}_{tail}.parquet",
            st.integers(0, 10**6),
            st.text("0123456789abcdef", min_size=16, max_size=16),
        ),
    }


def nested(levels: int, opener: bytes, key: str) -> bytes:
    """A body whose value under `key` nests `levels` arrays or objects deep."""
    inner = b'{"a":' if opener == b"{" else b"["
    closer = b"}" if opener == b"{" else b"]"
    return b'{"' + key.encode() + b'":' + inner * levels + b"1" + closer * levels + b"}"


# Deep enough to pass the parser's own limits (RecursionError at about a thousand).
DEEP_BODIES = st.builds(
    nested,
    st.sampled_from([33, 200, 1500, 5000]),
    st.sampled_from([b"[", b"{"]),
    st.sampled_from(["entries", "job", "since", "results", "submission"]),
)


def raw_bodies(operation: dict[str, Any], hints: Hints) -> st.SearchStrategy[bytes]:
    junk = st.one_of(
        st.binary(max_size=200),
        st.text(max_size=100).map(str.encode),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=10), inner, max_size=4)
            ),
            max_leaves=8,
        ).map(lambda value: json.dumps(value).encode()),
    )
    schema = body_schema(operation)
    if schema is None:
        return st.one_of(st.just(b""), junk, DEEP_BODIES)
    shaped = from_schema(schema, schema, hints=hints).map(lambda value: json.dumps(value).encode())
    return st.one_of(shaped, shaped, junk, DEEP_BODIES)


def path_strategy(path: str, operation: dict[str, Any]) -> st.SearchStrategy[str]:
    names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"]
    if not names:
        return st.just(path)
    segment = st.one_of(st.uuids().map(str), st.text(min_size=1, max_size=40))

    def fill(values: list[str]) -> str:
        filled = path
        for name, value in zip(names, values, strict=True):
            filled = filled.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
        return filled

    return st.lists(segment, min_size=len(names), max_size=len(names)).map(fill)


JUNK_AUTH = st.dictionaries(
    st.sampled_from(
        [
            http_auth.HEADER_VERSION,
            http_auth.HEADER_HOTKEY,
            http_auth.HEADER_NONCE,
            http_auth.HEADER_SIGNATURE,
            http_auth.HEADER_CRYPTO,
            http_auth.HEADER_RECEIVER,
            "X-Tao-Version",
            "X-Tao-Timestamp",
            "X-Tao-Nonce",
            "X-Tao-Signed-By",
            "X-Tao-Signature",
            "X-API-Key",
        ]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    max_size=6,
)


@pytest.fixture
def fuzz_client(s3_settings: Settings) -> Iterator[TestClient]:
    settings = s3_settings.model_copy(
        update={
            "trusted_validators": ("*",),
            "admin_api_keys": (SecretStr(FUZZ_API_KEY),),
            "constellation_api_keys": (SecretStr(FUZZ_API_KEY),),
        }
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def assert_well_formed(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("detail"), str) and body["detail"], body
        assert isinstance(body.get("code"), str) and CODE.match(body["code"]), body


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p, _ in OPERATIONS]
)
def test_no_input_makes_a_5xx_or_a_malformed_refusal(
    fuzz_client: TestClient, subnet: Subnet, method: str, path: str, operation: dict[str, Any]
) -> None:
    signers: dict[str, Keypair | None] = {
        "validator": subnet.validator.hotkey,
        "miner": subnet.miner.hotkey,
        "outsider": subnet.outsider,
        "none": None,
        "api_key": None,
    }

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        target=path_strategy(path, operation),
        raw=raw_bodies(operation, value_hints(subnet)),
        signer=st.sampled_from(sorted(signers)),
        scheme=st.sampled_from(["btauth", "tao"]),
        junk=JUNK_AUTH,
        content_type=st.sampled_from(["application/json", None, "text/plain"]),
    )
    def fuzz(
        target: str,
        raw: bytes,
        signer: str,
        scheme: str,
        junk: dict[str, str],
        content_type: str | None,
    ) -> None:
        headers = dict(junk)
        if signer == "api_key":
            headers["X-API-Key"] = FUZZ_API_KEY
        keypair = signers[signer]
        if keypair is not None and scheme == "tao":
            headers = tao_headers(keypair, raw)
        elif keypair is not None:
            headers = http_auth.sign(keypair, method=method.upper(), path=target, body=raw)
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = fuzz_client.request(method.upper(), target, content=raw, headers=headers)
        assert_well_formed(response)

    fuzz()


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p, _ in OPERATIONS]
)
def test_a_body_nested_thousands_deep_is_a_4xx_for_every_caller(
    fuzz_client: TestClient, subnet: Subnet, method: str, path: str, operation: dict[str, Any]
) -> None:
    target = path.replace("{job_id}", "00000000-0000-0000-0000-000000000000")
    for opener in (b"[", b"{"):
        raw = nested(5000, opener, "entries")
        for headers in (
            {"X-API-Key": FUZZ_API_KEY},
            http_auth.sign(subnet.validator.hotkey, method=method.upper(), path=target, body=raw),
            tao_headers(subnet.miner.hotkey, raw),
        ):
            response = fuzz_client.request(method.upper(), target, content=raw, headers=headers)
            assert_well_formed(response)
