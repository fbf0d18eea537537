"""Dynamic Desirability lists over HTTP, on SQLite and PostgreSQL, with real sr25519 keys."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
from bittensor import http_auth
from fastapi.testclient import TestClient

from app.main import create_app
from config import Settings
from tests.conftest import SettingsFactory, Subnet
from tests.desirability.conftest import (
    ADMIN,
    LIST_PATH,
    MINER_PATH,
    VALIDATOR_PATH,
    entry,
    publish,
    signed_get,
    stored_lists,
)

ENTRY_FIELDS = {
    "id",
    "platform",
    "weight",
    "label",
    "keyword",
    "post_start_datetime",
    "post_end_datetime",
    "expires_at",
    "max_rows",
}


def refusal(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_before_any_publication_reads_are_404_no_list(
    dd_client: TestClient, subnet: Subnet
) -> None:
    assert refusal(signed_get(dd_client, subnet.validator.hotkey, VALIDATOR_PATH)) == (
        404,
        "no_list",
    )
    assert refusal(signed_get(dd_client, subnet.miner.hotkey, MINER_PATH)) == (404, "no_list")


def test_published_list_is_what_miners_and_validators_read(
    dd_client: TestClient, subnet: Subnet
) -> None:
    entries = [
        entry(max_rows=500000),
        entry(
            id="reddit-ai",
            platform="reddit",
            weight=1.0,
            label="r/ai",
            keyword="agents",
            post_start_datetime="2026-01-01T00:00:00+00:00",
            post_end_datetime="2026-01-31T00:00:00Z",
            expires_at="2027-01-01T01:00:00+01:00",
        ),
    ]
    published = publish(dd_client, entries)
    assert published.status_code == 200, published.text
    answer = published.json()
    assert answer["entries"] == 2
    assert answer["generated_at"].endswith("Z")

    for signer, path in ((subnet.miner, MINER_PATH), (subnet.validator, VALIDATOR_PATH)):
        read = signed_get(dd_client, signer.hotkey, path)
        assert read.status_code == 200, read.text
        served = read.json()
        assert served["version"] == answer["version"]
        assert served["generated_at"] == answer["generated_at"]
        assert [e["id"] for e in served["entries"]] == [
            "crawler-7-h4rptebsja6qbdmocrt98",
            "reddit-ai",
        ]
        assert all(set(e) == ENTRY_FIELDS for e in served["entries"])
        reddit = served["entries"][1]
        assert reddit["expires_at"] == "2027-01-01T00:00:00Z"
        assert reddit["post_end_datetime"] == "2026-01-31T00:00:00Z"
        assert served["entries"][0]["keyword"] is None
        assert datetime.fromisoformat(served["generated_at"]).tzinfo is not None


def test_read_signed_with_btauth_headers_is_served(dd_client: TestClient, subnet: Subnet) -> None:
    publish(dd_client, [entry()])
    headers = http_auth.sign(subnet.validator.hotkey, method="GET", path=VALIDATOR_PATH, body=b"")
    read = dd_client.get(VALIDATOR_PATH, headers=headers)
    assert read.status_code == 200, read.text
    assert read.json()["entries"][0]["id"] == entry()["id"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [("miner", (403, "no_permit")), ("poor_validator", (403, "low_stake"))],
)
def test_validator_list_refuses_non_validators(
    dd_client: TestClient, subnet: Subnet, who: str, expected: tuple[int, str]
) -> None:
    publish(dd_client, [entry()])
    member = getattr(subnet, who)
    assert refusal(signed_get(dd_client, member.hotkey, VALIDATOR_PATH)) == expected


def test_unregistered_hotkey_is_401_not_registered(dd_client: TestClient, subnet: Subnet) -> None:
    publish(dd_client, [entry()])
    assert refusal(signed_get(dd_client, subnet.outsider, MINER_PATH)) == (401, "not_registered")


def test_unsigned_read_is_401(dd_client: TestClient) -> None:
    publish(dd_client, [entry()])
    assert dd_client.get(MINER_PATH).status_code == 401


def test_replayed_read_is_401_replayed(dd_client: TestClient, subnet: Subnet) -> None:
    from tests.signing import tao_headers

    publish(dd_client, [entry()])
    headers = tao_headers(subnet.validator.hotkey, b"")
    assert dd_client.get(VALIDATOR_PATH, headers=headers).status_code == 200
    assert refusal(dd_client.get(VALIDATOR_PATH, headers=headers)) == (401, "replayed")


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}, {"X-API-Key": "admin-key-1 "}],
    ids=["missing", "wrong", "empty", "padded"],
)
def test_wrong_or_missing_api_key_is_401_and_stores_nothing(
    dd_client: TestClient, headers: dict[str, str]
) -> None:
    response = dd_client.put(LIST_PATH, json={"entries": [entry()]}, headers=headers)
    assert refusal(response) == (401, "invalid_api_key")
    assert stored_lists(dd_client) == 0


def test_publishing_without_admin_keys_configured_is_401(
    make_settings: SettingsFactory, database_url: str
) -> None:
    settings = make_settings(database_url=database_url)
    with TestClient(create_app(settings)) as client:
        response = client.put(LIST_PATH, json={"entries": [entry()]}, headers={"X-API-Key": ""})
        assert refusal(response) == (401, "invalid_api_key")
        assert stored_lists(client) == 0


def test_second_admin_key_publishes(dd_client: TestClient) -> None:
    assert publish(dd_client, [entry()], **{"X-API-Key": "admin-key-2"}).status_code == 200


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (
            b'{"entries": [{"id": "a", "platform": "youtube", "weight": 1, "label": "x"}]}',
            422,
            "invalid_entry",
        ),
        (
            b'{"entries": [{"id": "a/b", "platform": "x", "weight": 1, "label": "x"}]}',
            422,
            "invalid_entry",
        ),
        (
            b'{"entries": [{"id": "a", "platform": "x", "weight": 0, "label": "x"}]}',
            422,
            "invalid_entry",
        ),
        (
            b'{"entries": [{"id": "a", "platform": "x", "weight": 1, "label": "x"},'
            b' {"id": "a", "platform": "x", "weight": 1, "label": "y"}]}',
            422,
            "duplicate_id",
        ),
        (
            b'{"entries": [{"id": "a", "platform": "x", "weight": 1, "label": "x",'
            b' "expires_at": "2026-01-01T00:00:00"}]}',
            422,
            "invalid_entry",
        ),
        (b'{"entries": []}', 422, "empty_list"),
        (b'{"entries": ', 400, "invalid_json"),
    ],
)
def test_malformed_list_changes_nothing(
    dd_client: TestClient, subnet: Subnet, raw: bytes, status: int, code: str
) -> None:
    first = publish(dd_client, [entry()]).json()
    response = dd_client.put(LIST_PATH, content=raw, headers=ADMIN)
    assert refusal(response) == (status, code)
    assert stored_lists(dd_client) == 1
    served = signed_get(dd_client, subnet.validator.hotkey, VALIDATOR_PATH).json()
    assert served["version"] == first["version"]


def test_refusal_names_the_bad_entry(dd_client: TestClient) -> None:
    response = publish(dd_client, [entry(id="good"), entry(id="bad", weight=0)])
    assert response.status_code == 422
    assert "entries[1] (id 'bad')" in response.json()["detail"]


def test_versions_are_kept_and_sort_in_publication_order(
    dd_client: TestClient, subnet: Subnet
) -> None:
    versions = [publish(dd_client, [entry(weight=float(n))]).json()["version"] for n in (1, 2, 3)]
    assert versions == sorted(versions)
    assert len(set(versions)) == 3
    assert stored_lists(dd_client) == 3
    served = signed_get(dd_client, subnet.validator.hotkey, VALIDATOR_PATH).json()
    assert served["version"] == versions[-1]
    assert served["entries"][0]["weight"] == 3.0


def test_list_published_on_another_replica_reaches_this_one(
    dd_settings: Settings, subnet: Subnet
) -> None:
    with (
        TestClient(create_app(dd_settings)) as first,
        TestClient(create_app(dd_settings)) as second,
    ):
        assert refusal(signed_get(second, subnet.validator.hotkey, VALIDATOR_PATH)) == (
            404,
            "no_list",
        )
        version = publish(first, [entry()]).json()["version"]
        # The background refresh (every 2 s) picks it up; give it generous slack on a busy host.
        deadline = time.monotonic() + 30
        served = None
        while time.monotonic() < deadline:
            read = signed_get(second, subnet.validator.hotkey, VALIDATOR_PATH)
            if read.status_code == 200:
                served = read.json()
                break
            time.sleep(0.2)
        assert served is not None and served["version"] == version


def test_restarted_app_serves_the_stored_list(dd_settings: Settings, subnet: Subnet) -> None:
    with TestClient(create_app(dd_settings)) as client:
        version = publish(client, [entry()]).json()["version"]
    with TestClient(create_app(dd_settings)) as client:
        read = signed_get(client, subnet.miner.hotkey, MINER_PATH)
        assert read.status_code == 200 and read.json()["version"] == version


def test_replica_with_a_lagging_clock_still_publishes_a_later_version(
    dd_client: TestClient, subnet: Subnet
) -> None:
    from datetime import timedelta

    from app.desirability.schemas import Entry
    from tests.app_state import on_app_loop, services_of

    first = publish(dd_client, [entry()]).json()
    lagging = datetime.fromisoformat(first["generated_at"]) - timedelta(hours=1)
    service = services_of(dd_client).desirability

    async def publish_lagging() -> str:
        snapshot = await service.publish([Entry.model_validate(entry(weight=9.0))], now=lagging)
        return snapshot.version

    second = on_app_loop(dd_client, publish_lagging)
    assert second > first["version"]
    served = signed_get(dd_client, subnet.validator.hotkey, VALIDATOR_PATH).json()
    assert served["version"] == second
    assert served["generated_at"] == first["generated_at"]


def test_label_with_a_nul_character_is_published_and_served(
    dd_client: TestClient, subnet: Subnet
) -> None:
    assert publish(dd_client, [entry(label="#a\u0000b")]).status_code == 200
    served = signed_get(dd_client, subnet.validator.hotkey, VALIDATOR_PATH).json()
    assert served["entries"][0]["label"] == "#a\u0000b"
