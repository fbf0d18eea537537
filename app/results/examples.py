"""Example requests and answers of the validation-score endpoints, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from app.routes.examples import MINER_HOTKEY, VALIDATOR_HOTKEY

SCORE: dict[str, Any] = {
    "effective_size_bytes": 123456789.0,
    "validation_passed": True,
    "scraper_pass_rate": 0.93,
    "hard_invalid": False,
}
PUBLISH_REQUEST = {"results": [{"miner_hotkey": MINER_HOTKEY, "score": SCORE}]}
PUBLISH_ANSWER = {"upserted": 1}
RESULTS_ANSWER = {
    "results": [
        {
            "miner_hotkey": MINER_HOTKEY,
            "validator_hotkey": VALIDATOR_HOTKEY,
            "validator_uid": 89,
            "score": SCORE,
            "updated_at": "2026-08-05T12:00:00.123456Z",
        }
    ]
}
