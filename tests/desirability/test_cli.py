"""`s3auth dd publish` and `s3auth validator results` against the app on a real port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from app.cli import main
from app.main import create_app
from tests.client.conftest import LiveServer
from tests.conftest import SettingsFactory, Subnet
from tests.desirability.conftest import ADMIN_KEY, VALIDATOR_PATH
from tests.signing import compact, tao_headers


@pytest.fixture
def url(make_settings: SettingsFactory, subnet: Subnet) -> Iterator[str]:
    settings = make_settings(admin_api_keys=ADMIN_KEY, trusted_validators=str(subnet.validator.uid))
    server = LiveServer(create_app(settings)).start()
    try:
        yield server.url
    finally:
        server.stop()


def served_list(url: str, subnet: Subnet) -> httpx2.Response:
    headers = tao_headers(subnet.validator.hotkey, b"")
    return httpx2.get(url + VALIDATOR_PATH, headers=headers)


def write(path: Path, payload: Any) -> str:
    path.write_text(json.dumps(payload))
    return str(path)


def test_publish_takes_a_total_json_and_the_list_is_served(
    url: str, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    total = [
        {
            "id": "aggregate_0",
            "weight": 2.5,
            "params": {
                "keyword": None,
                "platform": "reddit",
                "label": "r/bittensor_",
                "post_start_datetime": None,
                "post_end_datetime": None,
            },
        }
    ]
    code = main(["dd", "publish", write(tmp_path / "total.json", total), "--url", url,
                 "--api-key", ADMIN_KEY, "--json"])  # fmt: skip
    answer = json.loads(capsys.readouterr().out)
    assert code == 0
    assert answer["entries"] == 1
    served = served_list(url, subnet).json()
    assert served["version"] == answer["version"]
    assert served["entries"][0]["label"] == "r/bittensor_"
    assert served["entries"][0]["platform"] == "reddit"


def test_publish_with_a_wrong_key_exits_2_and_says_why(
    url: str, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = {"entries": [{"id": "a", "platform": "x", "weight": 1, "label": "#a"}]}
    code = main(["dd", "publish", write(tmp_path / "l.json", entries), "--url", url,
                 "--api-key", "wrong"])  # fmt: skip
    assert code == 2
    assert "invalid_api_key" in capsys.readouterr().err
    assert served_list(url, subnet).status_code == 404


def test_publish_of_a_bad_list_names_the_entry_and_changes_nothing(
    url: str, subnet: Subnet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = [
        {"id": "a", "platform": "x", "weight": 1, "label": "#a"},
        {"id": "b", "platform": "x", "weight": 0, "label": "#b"},
    ]
    code = main(["dd", "publish", write(tmp_path / "l.json", entries), "--url", url,
                 "--api-key", ADMIN_KEY])  # fmt: skip
    assert code == 2
    assert "entries[1] (id 'b')" in capsys.readouterr().err
    assert served_list(url, subnet).status_code == 404


def test_validator_results_prints_a_table_and_json(
    url: str, subnet: Subnet, capsys: pytest.CaptureFixture[str]
) -> None:
    miner = subnet.miner.hotkey.ss58_address
    score = {"effective_size_bytes": 1234.0, "validation_passed": True, "scraper_pass_rate": 0.9}
    raw = compact({"results": [{"miner_hotkey": miner, "score": score}]})
    posted = httpx2.post(
        url + "/s3-validation/results",
        content=raw,
        headers=tao_headers(subnet.validator.hotkey, raw),
    )
    assert posted.status_code == 200, posted.text

    keys = ["--url", url, "--hotkey-uri", "//validator-hot"]
    assert main(["validator", "results", *keys]) == 0
    table = capsys.readouterr().out
    assert miner in table and "1234" in table and "yes" in table

    assert main(["validator", "results", *keys, "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["miner_hotkey"] == miner and result["score"] == score


def test_validator_results_as_a_miner_exits_2_no_permit(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validator", "results", "--url", url, "--hotkey-uri", "//miner-hot"])
    assert code == 2
    assert "no_permit" in capsys.readouterr().err
