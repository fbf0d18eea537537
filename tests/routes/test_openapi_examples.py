"""/openapi.json teaches: examples of every request and answer, error codes, signatures."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth.legacy import (
    miner_files_message,
    miner_listing_message,
    miner_message,
    signature_is_valid,
    validator_message,
)
from app.error_codes import ERROR_CODES
from app.routes import examples

ROOT = Path(__file__).resolve().parents[2]
SUCCESS = ("200", "201")


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def has_example(media: dict[str, Any]) -> bool:
    return "example" in media or bool(media.get("examples"))


def test_every_operation_has_an_example_answer(spec: dict[str, Any]) -> None:
    missing = []
    for name, operation in operations(spec):
        success = [operation["responses"][s] for s in SUCCESS if s in operation["responses"]]
        media = [m for response in success for m in response.get("content", {}).values()]
        if not any(has_example(m) for m in media):
            missing.append(name)
    assert missing == []


def test_every_request_body_has_an_example(spec: dict[str, Any]) -> None:
    missing = [
        name
        for name, operation in operations(spec)
        if "requestBody" in operation
        and not all(has_example(m) for m in operation["requestBody"]["content"].values())
    ]
    assert missing == []


def test_every_signed_operation_documents_its_error_codes_per_status(
    spec: dict[str, Any],
) -> None:
    signed = [(name, op) for name, op in operations(spec) if op.get("security")]
    assert len(signed) >= 4
    for name, operation in signed:
        statuses = {s for s in operation["responses"] if s.startswith(("4", "5"))}
        assert {"401", "429", "503"} <= statuses, name
        for status in statuses:
            media = operation["responses"][status]["content"]["application/json"]
            enum = media["schema"]["properties"]["code"]["enum"]
            assert enum, (name, status)
            assert {ERROR_CODES[code].status for code in enum} == {int(status)}, (name, status)
            assert set(media["examples"]) == set(enum), (name, status)


def test_healthcheck_documents_its_degraded_503(spec: dict[str, Any]) -> None:
    degraded = spec["paths"]["/healthcheck"]["get"]["responses"]["503"]
    example = degraded["content"]["application/json"]["example"]
    assert example["status"] == "degraded"
    assert example["reason"]


def test_signed_headers_are_security_schemes(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    headers = {scheme["name"] for scheme in schemes.values()}
    assert {
        "X-Tao-Version",
        "X-Tao-Timestamp",
        "X-Tao-Nonce",
        "X-Tao-Signed-By",
        "X-Tao-Signature",
        "X-Bittensor-Signature",
        "X-API-Key",
    } <= headers
    requirements = spec["paths"]["/list-files"]["post"]["security"]
    assert any("BittensorSignature" in requirement for requirement in requirements)
    assert {} not in requirements  # no legacy body signature there


def test_legacy_body_fields_appear_only_where_they_are_accepted(spec: dict[str, Any]) -> None:
    def body_fields(path: str) -> set[str]:
        media = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        schema = media["schema"]
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return set(schema["properties"])

    legacy = {"timestamp", "signature"}
    assert legacy <= body_fields("/get-folder-access")
    assert legacy <= body_fields("/get-validator-access")
    assert not legacy & body_fields("/list-files")
    assert not legacy & body_fields("/get-file-urls")


def test_example_legacy_signatures_verify_for_their_messages() -> None:
    miner = examples.FOLDER_ACCESS_LEGACY
    validator = examples.VALIDATOR_ACCESS_LEGACY

    assert signature_is_valid(
        miner["hotkey"],
        miner_message(miner["coldkey"], miner["source"], miner["timestamp"]),
        bytes.fromhex(miner["signature"]),
    )
    assert signature_is_valid(
        validator["hotkey"],
        validator_message(validator["timestamp"]),
        bytes.fromhex(validator["signature"]),
    )


def test_example_legacy_signatures_of_validators_per_miner_verify() -> None:
    specific = examples.MINER_SPECIFIC_LEGACY
    files = examples.MINER_FILES_LEGACY

    assert signature_is_valid(
        specific["hotkey"],
        miner_listing_message(specific["miner_hotkey"], specific["timestamp"]),
        bytes.fromhex(specific["signature"]),
    )
    assert signature_is_valid(
        files["hotkey"],
        miner_files_message(files["miner_hotkey"], files["hotkey"], files["timestamp"]),
        bytes.fromhex(files["signature"]),
    )


def raised_codes() -> set[str]:
    """Literal `code=` arguments and `code = ...` class attributes under app/, not the client."""
    codes: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        if "client" in path.relative_to(ROOT / "app").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            values: list[ast.expr] = []
            if isinstance(node, ast.Call):
                values = [kw.value for kw in node.keywords if kw.arg == "code"]
            elif isinstance(node, ast.Assign):
                values = (
                    [node.value]
                    if any(isinstance(t, ast.Name) and t.id == "code" for t in node.targets)
                    else []
                )
            codes |= {
                v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            }
    return codes


def test_every_code_the_service_raises_is_in_the_catalogue() -> None:
    codes = raised_codes()
    assert "not_registered" in codes  # the scan finds what it looks for
    assert codes - set(ERROR_CODES) == set()


def test_every_catalogued_code_is_explained_in_docs_errors() -> None:
    text = (ROOT / "docs" / "errors.md").read_text()
    assert [code for code in ERROR_CODES if f"`{code}`" not in text] == []


def test_protocol_pages_are_served_next_to_the_docs(client: TestClient) -> None:
    page = client.get("/docs/protocol.md")
    missing = client.get("/docs/secrets.md")

    assert page.status_code == 200
    assert "X-Tao-Signature" in page.text
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
