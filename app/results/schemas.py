"""What a trusted validator publishes, and what every validator reads back."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.auth.keys import is_ss58
from app.errors import BadRequest, InvalidRequest

MAX_RESULTS = 1000
MAX_SCORE_BYTES = 4096


class Result(BaseModel):
    miner_hotkey: str = Field(max_length=64)
    score: dict[str, Any] = Field(description="Stored as sent; at most 4 KiB as compact JSON.")


class ResultsBody(BaseModel):
    results: list[Result] = Field(max_length=MAX_RESULTS)


class Upserted(BaseModel):
    upserted: int


class PublishedResult(BaseModel):
    miner_hotkey: str
    validator_hotkey: str
    validator_uid: int
    score: dict[str, Any]
    updated_at: datetime


class Results(BaseModel):
    results: list[PublishedResult]


def score_bytes(score: dict[str, Any]) -> bytes:
    """The score as stored; NaN and infinities have no JSON form and are refused."""
    return json.dumps(score, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def check_results(body: ResultsBody) -> None:
    """Refuses the whole body for its first bad entry, before any signature work."""
    for index, result in enumerate(body.results):
        if not is_ss58(result.miner_hotkey):
            raise BadRequest(
                f"results[{index}].miner_hotkey is not a valid SS58 address.",
                code="invalid_hotkey",
            )
        try:
            size = len(score_bytes(result.score))
        except ValueError:
            raise InvalidRequest(
                f"results[{index}].score holds a number JSON cannot carry (NaN or infinity).",
                code="invalid_score",
            ) from None
        if size > MAX_SCORE_BYTES:
            raise InvalidRequest(
                f"results[{index}].score is {size} bytes as JSON; at most {MAX_SCORE_BYTES}.",
                code="score_too_large",
            )
