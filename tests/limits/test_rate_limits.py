"""Per-IP limits come before any work; per-hotkey quotas count only verified callers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import app.auth.pipeline as callers
from app.auth.replay import MemoryReplayStore
from app.limits import client_key
from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.probes import VALIDATOR_PROBE, app_with_validator_probe
from tests.signing import btauth_request, miner_body, sign_hex, validator_body

GRANT = "/get-folder-access"


def post(client: TestClient, body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post(GRANT, content=json.dumps(body).encode())
    return response.status_code, response.json()


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> str:
    """Each quota rule holds with counters in memory and in a shared Redis."""
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue("shared_redis")


def test_ip_over_its_limit_gets_429_with_retry_after(
    make_settings: SettingsFactory, subnet: Subnet
) -> None:
    coldkey = subnet.miner.coldkey.ss58_address
    with TestClient(create_app(make_settings(rate_limit_ip="2/minute"))) as client:
        assert post(client, miner_body(subnet.miner.hotkey, coldkey))[0] == 200
        assert post(client, miner_body(subnet.miner.hotkey, coldkey))[0] == 200
        response = client.post(GRANT, json=miner_body(subnet.miner.hotkey, coldkey))

    assert response.status_code == 429
    error = response.json()
    assert error["code"] == "rate_limited"
    assert error["limit"] == "ip"
    assert "IP address" in error["detail"]
    assert "2 per 1 minute" in error["detail"]
    # A full sliding window fades over the next one: room returns within two periods.
    assert 1 <= int(response.headers["Retry-After"]) <= 120
    assert error["retry_after"] == int(response.headers["Retry-After"])


def test_ip_limit_refuses_before_body_parsing_and_signature_checks(
    make_settings: SettingsFactory, subnet: Subnet, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy_checks: list[str] = []
    btauth_checks: list[str] = []
    real_legacy, real_btauth = callers.signature_is_valid, callers.verify_btauth

    def counting_legacy(*args: Any, **kwargs: Any) -> bool:
        legacy_checks.append("legacy")
        return real_legacy(*args, **kwargs)

    def counting_btauth(*args: Any, **kwargs: Any) -> Any:
        btauth_checks.append("btauth")
        return real_btauth(*args, **kwargs)

    monkeypatch.setattr(callers, "signature_is_valid", counting_legacy)
    monkeypatch.setattr(callers, "verify_btauth", counting_btauth)
    coldkey = subnet.miner.coldkey.ss58_address
    signed_raw, signed_headers = btauth_request(
        subnet.miner.hotkey, GRANT, {"coldkey": coldkey, "source": "x"}
    )
    with TestClient(create_app(make_settings(rate_limit_ip="1/minute"))) as client:
        assert post(client, miner_body(subnet.miner.hotkey, coldkey))[0] == 200
        assert legacy_checks == ["legacy"]

        refused = [
            post(client, miner_body(subnet.miner.hotkey, coldkey)),
            post(client, {"not": "a grant request"}),
            (client.post(GRANT, content=b"{not json").status_code, {}),
            (client.post(GRANT, content=signed_raw, headers=signed_headers).status_code, {}),
        ]

    assert [status for status, _ in refused] == [429, 429, 429, 429]
    assert legacy_checks == ["legacy"]
    assert btauth_checks == []


def test_ip_limit_does_not_consume_the_signature_it_refuses(
    make_settings: SettingsFactory, subnet: Subnet
) -> None:
    # One store for both runs of the app: a new one would refuse a signature older than it.
    store = MemoryReplayStore()
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
    app = create_app(make_settings(rate_limit_ip="1/minute"), replay_store=store)
    with TestClient(app, client=("10.0.0.1", 1000)) as first_ip:
        first_ip.get("/nope")
        assert post(first_ip, body)[0] == 429
    with TestClient(app, client=("10.0.0.2", 1000)) as second_ip:
        assert post(second_ip, body)[0] == 200


def test_each_ip_has_its_own_count(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings(rate_limit_ip="1/minute"))
    with TestClient(app, client=("10.0.0.1", 1000)) as one:
        assert one.get("/nope").status_code == 404
        assert one.get("/nope").status_code == 429
    with TestClient(app, client=("10.0.0.2", 1000)) as other:
        assert other.get("/nope").status_code == 404


def test_health_and_metrics_are_not_ip_limited(make_settings: SettingsFactory) -> None:
    with TestClient(create_app(make_settings(rate_limit_ip="1/minute"))) as client:
        assert client.get("/nope").status_code == 404
        assert client.get("/nope").status_code == 429
        assert client.get("/healthcheck").status_code == 200
        assert client.get("/metrics").status_code == 200
        assert client.get("/livez").status_code == client.get("/healthz").status_code == 200
        # Not ready (this app's S3 is never reachable), but answered rather than limited.
        assert client.get("/readyz").status_code == 503


def test_empty_limits_turn_limiting_off(make_settings: SettingsFactory, subnet: Subnet) -> None:
    coldkey = subnet.miner.coldkey.ss58_address
    with TestClient(create_app(make_settings())) as client:
        statuses = {post(client, miner_body(subnet.miner.hotkey, coldkey))[0] for _ in range(30)}

    assert statuses == {200}


def test_miner_over_its_quota_gets_429_naming_the_hotkey_limit(
    make_settings: SettingsFactory, subnet: Subnet, storage: str
) -> None:
    settings = make_settings(rate_limit_miner="2/hour", rate_limit_storage=storage)
    coldkey = subnet.miner.coldkey.ss58_address
    with TestClient(create_app(settings)) as client:
        assert post(client, miner_body(subnet.miner.hotkey, coldkey))[0] == 200
        assert post(client, miner_body(subnet.miner.hotkey, coldkey))[0] == 200
        response = client.post(GRANT, json=miner_body(subnet.miner.hotkey, coldkey))
        other = post(
            client, miner_body(subnet.other_miner.hotkey, subnet.other_miner.coldkey.ss58_address)
        )

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert response.json()["limit"] == "miner"
    assert "miner hotkey" in response.json()["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= 7200
    assert other[0] == 200


def test_flood_of_invalid_signatures_for_a_victim_leaves_its_quota_untouched(
    make_settings: SettingsFactory, subnet: Subnet, storage: str
) -> None:
    victim = subnet.miner
    coldkey = victim.coldkey.ss58_address
    settings = make_settings(rate_limit_miner="3/hour", rate_limit_storage=storage)
    forged_legacy = dict(
        miner_body(victim.hotkey, coldkey),
        signature=sign_hex(subnet.outsider, "s3:access:forged"),
    )
    btauth_raw, btauth_headers = btauth_request(
        subnet.outsider, GRANT, {"coldkey": coldkey, "source": "x"}
    )
    btauth_headers["X-Bittensor-Hotkey"] = victim.hotkey.ss58_address
    wrong_coldkey = miner_body(victim.hotkey, subnet.other_miner.coldkey.ss58_address)

    with TestClient(create_app(settings)) as client:
        for _ in range(10):
            assert post(client, forged_legacy)[1]["code"] == "bad_signature"
            response = client.post(GRANT, content=btauth_raw, headers=btauth_headers)
            assert response.json()["code"] == "bad_signature"
        # Signed by the victim but refused later (foreign coldkey): not counted either.
        assert post(client, wrong_coldkey)[1]["code"] == "coldkey_mismatch"

        own = [post(client, miner_body(victim.hotkey, coldkey))[0] for _ in range(4)]

    assert own == [200, 200, 200, 429]


def test_replayed_signature_is_not_counted_against_the_quota(
    make_settings: SettingsFactory, subnet: Subnet
) -> None:
    coldkey = subnet.miner.coldkey.ss58_address
    with TestClient(create_app(make_settings(rate_limit_miner="2/hour"))) as client:
        body = miner_body(subnet.miner.hotkey, coldkey)
        assert post(client, body)[0] == 200
        assert [post(client, body)[1]["code"] for _ in range(5)] == ["replayed"] * 5
        assert (
            post(client, miner_body(subnet.miner.hotkey, coldkey, timestamp=body["timestamp"] + 1))[
                0
            ]
            == 200
        )
        assert (
            post(client, miner_body(subnet.miner.hotkey, coldkey, timestamp=body["timestamp"] + 2))[
                0
            ]
            == 429
        )


def test_signature_refused_for_quota_is_not_consumed(
    make_settings: SettingsFactory, subnet: Subnet
) -> None:
    # The quota is checked before the signature is marked used, so the client may
    # send the same signed request again once Retry-After has passed.
    coldkey = subnet.miner.coldkey.ss58_address
    settings = make_settings(rate_limit_miner="1/hour", rate_limit_storage="memory://")
    app = create_app(settings)
    with TestClient(app) as client:
        body = miner_body(subnet.miner.hotkey, coldkey)
        assert (
            post(client, miner_body(subnet.miner.hotkey, coldkey, timestamp=body["timestamp"] + 1))[
                0
            ]
            == 200
        )
        assert post(client, body)[0] == 429
        # The hour passes: the store forgets the counts, as its windows would.
        app.state.services.limits.store._counts.clear()
        assert post(client, body)[0] == 200


def test_validator_quota_is_counted_apart_from_miners(
    make_settings: SettingsFactory, subnet: Subnet, storage: str
) -> None:
    settings = make_settings(
        rate_limit_validator="1/hour", rate_limit_miner="5/hour", rate_limit_storage=storage
    )
    coldkey = subnet.miner.coldkey.ss58_address
    with TestClient(app_with_validator_probe(settings)) as client:
        first = client.post(VALIDATOR_PROBE, json=validator_body(subnet.validator.hotkey))
        second = client.post(VALIDATOR_PROBE, json=validator_body(subnet.validator.hotkey))
        poor = client.post(VALIDATOR_PROBE, json=validator_body(subnet.poor_validator.hotkey))
        miner = post(client, miner_body(subnet.miner.hotkey, coldkey))

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json()["limit"] == "validator"
    assert "validator hotkey" in second.json()["detail"]
    assert poor.json()["code"] == "low_stake"
    assert miner[0] == 200


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
    ],
)
def test_ipv6_clients_are_counted_per_64_block(host: str, key: str) -> None:
    assert client_key(host) == key


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(
    make_settings: SettingsFactory,
) -> None:
    # What `s3auth serve` runs: uvicorn's proxy headers, trusted from loopback only.
    app = ProxyHeadersMiddleware(
        create_app(make_settings(rate_limit_ip="1/minute")), trusted_hosts="127.0.0.1"
    )
    with TestClient(app, client=("127.0.0.1", 1000)) as proxy:
        first = [proxy.get("/nope", headers={"X-Forwarded-For": "198.51.100.1"}) for _ in "ab"]
        second = proxy.get("/nope", headers={"X-Forwarded-For": "198.51.100.2"})
    with TestClient(app, client=("203.0.113.9", 1000)) as untrusted:
        spoofed = [
            untrusted.get("/nope", headers={"X-Forwarded-For": f"198.51.100.{n}"}) for n in (3, 4)
        ]

    assert [r.status_code for r in first] == [404, 429]
    assert second.status_code == 404
    assert [r.status_code for r in spoofed] == [404, 429]
