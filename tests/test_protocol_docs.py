"""docs/protocol.md's worked examples are the bytes the service verifies, and docs stand alone."""

from __future__ import annotations

import base64
import hashlib
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bittensor.sp_core import Keypair

from app.auth.legacy import miner_message, validator_message

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()
EXAMPLES: dict[str, Any] = runpy.run_path(str(ROOT / "docs" / "signing_examples.py"))
ALICE = EXAMPLES["HOTKEY"].ss58_address


def verifies(message: bytes, signature: bytes) -> bool:
    return bool(Keypair(ss58_address=ALICE).verify(message, signature))


def test_every_legacy_message_in_the_protocol_is_what_the_script_builds() -> None:
    for message in EXAMPLES["legacy_messages"]().values():
        assert f"`{message}`" in PROTOCOL, message


def test_legacy_builders_of_the_service_sign_the_documented_messages() -> None:
    coldkey = EXAMPLES["COLDKEY"].ss58_address
    timestamp = EXAMPLES["TIMESTAMP"]

    assert f"`{miner_message(coldkey, 'x', timestamp)}`" in PROTOCOL
    assert f"`{validator_message(timestamp)}`" in PROTOCOL


def test_tao_v2_hashes_and_messages_in_the_protocol_are_exact() -> None:
    body = EXAMPLES["UPLOAD_BODY"]
    for raw in (EXAMPLES["compact"](body), EXAMPLES["spaced"](body), b""):
        assert hashlib.sha256(raw).hexdigest() in PROTOCOL
    assert f"`{EXAMPLES['tao_message'](EXAMPLES['compact'](body))}`" in PROTOCOL
    assert f"`{EXAMPLES['tao_message'](b'')}`" in PROTOCOL
    assert EXAMPLES["compact"](body).decode() in PROTOCOL


def test_the_documented_tao_v2_signature_verifies() -> None:
    signature = re.search(r"X-Tao-Signature: (\S+)", PROTOCOL)
    assert signature is not None
    message = EXAMPLES["tao_message"](EXAMPLES["compact"](EXAMPLES["UPLOAD_BODY"]))

    assert verifies(message.encode(), base64.b64decode(signature[1]))


def test_the_documented_btauth_payload_and_signature_are_exact() -> None:
    payload = EXAMPLES["btauth_payload"](EXAMPLES["compact"](EXAMPLES["UPLOAD_BODY"]))
    signature = re.search(r"One valid signature of it:\n`0x([0-9a-f]{128})`", PROTOCOL)

    assert f"```\n{payload.decode()}\n```" in PROTOCOL
    assert f"The {len(payload)} bytes signed" in PROTOCOL
    assert signature is not None
    assert verifies(payload, bytes.fromhex(signature[1]))


def test_the_documented_legacy_request_verifies() -> None:
    signature = re.search(r'"signature": "([0-9a-f]{128})"', PROTOCOL)
    message = next(iter(EXAMPLES["legacy_messages"]().values()))

    assert signature is not None
    assert verifies(message.encode(), bytes.fromhex(signature[1]))


def test_the_examples_script_runs_and_every_signature_it_makes_verifies() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "signing_examples.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("verifies True") == 9
    assert "verifies False" not in result.stdout


@pytest.mark.parametrize("path", ["README.md", "docs/protocol.md", "docs/errors.md"])
def test_docs_point_only_inside_the_repository(path: str) -> None:
    text = (ROOT / path).read_text()

    assert "CONTRACT.md" not in text
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if target.startswith(("http://", "https://", "/")):
            continue
        linked = (ROOT / path).parent.joinpath(target).resolve()
        assert linked.is_relative_to(ROOT.resolve()), f"{path} links outside: {target}"
        assert linked.exists(), f"{path} links {target}"


def test_every_python_snippet_of_the_protocol_runs_with_bittensor_wallet_only() -> None:
    snippets = re.findall(r"```python\n(.*?)```", PROTOCOL, flags=re.S)
    assert snippets
    for snippet in snippets:
        assert "bittensor.sp_core" not in snippet and "import bittensor\n" not in snippet
        result = subprocess.run(
            [sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, (snippet, result.stderr)
