"""Published validation scores over HTTP, on SQLite and PostgreSQL, with real sr25519 keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Member, Subnet
from tests.results.conftest import RESULTS_PATH, get_results, post_results, stored
from tests.signing import compact, tao_headers

SCORE = {
    "effective_size_bytes": 123456789.0,
    "validation_passed": True,
    "scraper_pass_rate": None,
    "hard_invalid": False,
}


def refusal(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def one(miner: Member, score: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"results": [{"miner_hotkey": miner.hotkey.ss58_address, "score": score or SCORE}]}


def test_trusted_validator_publishes_and_validators_read_every_miner(
    results_client: TestClient, subnet: Subnet, untrusted_validator: Member
) -> None:
    body = {
        "results": [
            {"miner_hotkey": subnet.miner.hotkey.ss58_address, "score": SCORE},
            {
                "miner_hotkey": subnet.other_miner.hotkey.ss58_address,
                "score": {"effective_size_bytes": 1.0, "validation_passed": False},
            },
        ]
    }
    answer = post_results(results_client, subnet.validator, body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"upserted": 2}

    rows = stored(results_client)
    row = rows[subnet.miner.hotkey.ss58_address]
    assert (row.validator_hotkey, row.validator_uid) == (
        subnet.validator.hotkey.ss58_address,
        subnet.validator.uid,
    )
    assert row.score == SCORE

    read = get_results(results_client, untrusted_validator)
    assert read.status_code == 200, read.text
    results = {r["miner_hotkey"]: r for r in read.json()["results"]}
    assert set(results) == {
        subnet.miner.hotkey.ss58_address,
        subnet.other_miner.hotkey.ss58_address,
    }
    mine = results[subnet.miner.hotkey.ss58_address]
    assert mine["score"] == SCORE
    assert mine["validator_hotkey"] == subnet.validator.hotkey.ss58_address
    assert mine["validator_uid"] == subnet.validator.uid
    assert datetime.fromisoformat(mine["updated_at"]).tzinfo is not None


def test_a_new_score_replaces_the_miners_previous_one(
    results_client: TestClient, subnet: Subnet
) -> None:
    post_results(results_client, subnet.validator, one(subnet.miner))
    newer = {**SCORE, "effective_size_bytes": 5.0, "added_later": [1, 2]}
    assert post_results(results_client, subnet.validator, one(subnet.miner, newer)).json() == {
        "upserted": 1
    }
    rows = stored(results_client)
    assert len(rows) == 1
    assert rows[subnet.miner.hotkey.ss58_address].score == newer


def test_miner_named_twice_keeps_the_later_score(
    results_client: TestClient, subnet: Subnet
) -> None:
    hotkey = subnet.miner.hotkey.ss58_address
    body = {
        "results": [
            {"miner_hotkey": hotkey, "score": {"n": 1}},
            {"miner_hotkey": hotkey, "score": {"n": 2}},
        ]
    }
    assert post_results(results_client, subnet.validator, body).json() == {"upserted": 1}
    assert stored(results_client)[hotkey].score == {"n": 2}


def test_untrusted_validator_cannot_publish(
    results_client: TestClient, subnet: Subnet, untrusted_validator: Member
) -> None:
    response = post_results(results_client, untrusted_validator, one(subnet.miner))
    assert refusal(response) == (403, "not_trusted")
    assert stored(results_client) == {}


@pytest.mark.parametrize(
    ("who", "expected"),
    [("miner", (403, "no_permit")), ("poor_validator", (403, "low_stake"))],
)
def test_non_validators_can_neither_publish_nor_read(
    results_client: TestClient, subnet: Subnet, who: str, expected: tuple[int, str]
) -> None:
    member = getattr(subnet, who)
    assert refusal(post_results(results_client, member, one(subnet.miner))) == expected
    assert refusal(get_results(results_client, member)) == expected
    assert stored(results_client) == {}


def test_miner_hotkey_that_is_not_ss58_is_400_and_stores_nothing(
    results_client: TestClient, subnet: Subnet
) -> None:
    body = one(subnet.miner)
    body["results"].append({"miner_hotkey": "not-a-hotkey", "score": SCORE})
    response = post_results(results_client, subnet.validator, body)
    assert refusal(response) == (400, "invalid_hotkey")
    assert "results[1]" in response.json()["detail"]
    assert stored(results_client) == {}


def test_score_over_4_kib_is_422_and_stores_nothing(
    results_client: TestClient, subnet: Subnet
) -> None:
    big = {"notes": "x" * 4096}
    response = post_results(results_client, subnet.validator, one(subnet.miner, big))
    assert refusal(response) == (422, "score_too_large")
    assert stored(results_client) == {}


def test_score_of_exactly_4_kib_is_stored(results_client: TestClient, subnet: Subnet) -> None:
    score = {"notes": "x" * (4096 - len('{"notes":""}'))}
    assert (
        post_results(results_client, subnet.validator, one(subnet.miner, score)).status_code == 200
    )
    assert stored(results_client)[subnet.miner.hotkey.ss58_address].score == score


def test_score_that_is_not_an_object_is_422(results_client: TestClient, subnet: Subnet) -> None:
    body = {"results": [{"miner_hotkey": subnet.miner.hotkey.ss58_address, "score": 0.5}]}
    assert post_results(results_client, subnet.validator, body).status_code == 422
    assert stored(results_client) == {}


def test_score_with_nan_is_422(results_client: TestClient, subnet: Subnet) -> None:
    raw = compact(one(subnet.miner, {"effective_size_bytes": 0.5})).replace(b"0.5", b"NaN")
    headers = tao_headers(subnet.validator.hotkey, raw)
    response = results_client.post(RESULTS_PATH, content=raw, headers=headers)
    assert refusal(response) == (422, "invalid_score")
    assert stored(results_client) == {}


def test_more_than_1000_results_is_422(results_client: TestClient, subnet: Subnet) -> None:
    entry = {"miner_hotkey": subnet.miner.hotkey.ss58_address, "score": {}}
    raw = compact({"results": [entry] * 1001})
    response = results_client.post(
        RESULTS_PATH, content=raw, headers=tao_headers(subnet.validator.hotkey, raw)
    )
    assert response.status_code == 422
    assert stored(results_client) == {}


def test_compact_body_without_content_type_is_accepted(
    results_client: TestClient, subnet: Subnet
) -> None:
    raw = compact(one(subnet.miner))
    response = results_client.post(
        RESULTS_PATH, content=raw, headers=tao_headers(subnet.validator.hotkey, raw)
    )
    assert response.status_code == 200, response.text
    assert subnet.miner.hotkey.ss58_address in stored(results_client)


def test_reading_before_any_publication_is_an_empty_list(
    results_client: TestClient, subnet: Subnet
) -> None:
    read = get_results(results_client, subnet.validator)
    assert read.status_code == 200
    assert read.json() == {"results": []}


def test_score_with_a_nul_character_is_stored_as_sent(
    results_client: TestClient, subnet: Subnet
) -> None:
    score = {"note": "a\u0000b", "validation_passed": True}
    response = post_results(results_client, subnet.validator, one(subnet.miner, score))
    assert response.status_code == 200, response.text
    assert stored(results_client)[subnet.miner.hotkey.ss58_address].score == score
