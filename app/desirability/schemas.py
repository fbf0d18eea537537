"""The shapes of a Dynamic Desirability list, as admins publish it and clients read it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.datetimes import AwareUtcDatetime
from app.storage.layout import is_valid_job_id

# Labels and keywords are hashtags, subreddits or search words; this only bounds storage.
MAX_TEXT_LENGTH = 512


class Entry(BaseModel):
    """One job: miners scrape what it names, validators weight matching data by `weight`."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="One path segment: miners upload under job_id=<id>/.")
    platform: Literal["x", "reddit"]
    weight: float = Field(gt=0, allow_inf_nan=False)
    label: str | None = Field(None, max_length=MAX_TEXT_LENGTH)
    keyword: str | None = Field(None, max_length=MAX_TEXT_LENGTH)
    post_start_datetime: AwareUtcDatetime | None = None
    post_end_datetime: AwareUtcDatetime | None = None
    expires_at: AwareUtcDatetime | None = None
    max_rows: int | None = Field(None, gt=0)

    @field_validator("id")
    @classmethod
    def _one_segment(cls, value: str) -> str:
        if not is_valid_job_id(value):
            raise ValueError(
                "must be one path segment: 1 to 128 letters, digits, '_', '-' or '.', "
                "and not '.' or '..'"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Entry:
        if not self.label and not self.keyword:
            raise ValueError("needs a label or a keyword: miners act on nothing else")
        start, end = self.post_start_datetime, self.post_end_datetime
        if start is not None and end is not None and start > end:
            raise ValueError("post_start_datetime is after post_end_datetime")
        return self


class PublishRequest(BaseModel):
    entries: list[Entry] = Field(min_length=1)


class DDList(BaseModel):
    version: str = Field(description="Sortable: later publications sort after earlier ones.")
    generated_at: datetime
    entries: list[Entry]


class Published(BaseModel):
    version: str
    generated_at: datetime
    entries: int = Field(description="How many entries the published list holds.")
