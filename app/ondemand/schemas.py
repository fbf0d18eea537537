"""Bodies of the on-demand endpoints (CONTRACT §3 "On-demand jobs").

Requests may write datetimes with `Z` or `+00:00`; one without a timezone is taken as UTC.
Answers always carry the timezone: deployed miners and validators compare them with aware
datetimes and fail on naive ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.datetimes import UtcDatetime

PLATFORMS = ("x", "reddit")
MAX_USERNAMES = 10
# Miners count a Reddit job's subreddit as one of its keywords.
MAX_KEYWORDS = 5
MAX_TERM_LENGTH = 256
MAX_SINCE_AGE = timedelta(minutes=10)


Term = Annotated[str, Field(min_length=1, max_length=MAX_TERM_LENGTH)]


def clean_usernames(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    cleaned = [value.strip().removeprefix("@").strip() for value in values]
    return [value for value in cleaned if value] or None


def clean_keywords(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [value.strip() for value in values if value.strip()] or None


class XJob(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["x"]
    usernames: Annotated[list[Term] | None, AfterValidator(clean_usernames)] = Field(
        None, max_length=MAX_USERNAMES
    )
    keywords: Annotated[list[Term] | None, AfterValidator(clean_keywords)] = Field(
        None, max_length=MAX_KEYWORDS
    )
    url: str | None = Field(None, max_length=2048, description="A single post (URL mode).")

    @model_validator(mode="after")
    def _check(self) -> XJob:
        if self.url is not None:
            if not self.url.startswith(("https://", "http://")):
                raise ValueError("url must be an http(s) URL of one post")
            if self.usernames or self.keywords:
                raise ValueError("a job with a url takes no usernames or keywords")
        elif not self.usernames and not self.keywords:
            raise ValueError("an x job needs usernames, keywords or a url")
        return self


class RedditJob(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["reddit"]
    subreddit: str | None = Field(None, min_length=3, max_length=64, pattern=r"^r/[A-Za-z0-9_]+$")
    usernames: Annotated[list[Term] | None, AfterValidator(clean_usernames)] = Field(
        None, max_length=MAX_USERNAMES
    )
    keywords: Annotated[list[Term] | None, AfterValidator(clean_keywords)] = Field(
        None, max_length=MAX_KEYWORDS
    )

    @model_validator(mode="after")
    def _check(self) -> RedditJob:
        if len(self.keywords or ()) + (self.subreddit is not None) > MAX_KEYWORDS:
            raise ValueError(
                f"at most {MAX_KEYWORDS} keywords, the subreddit counting as one, as miners enforce"
            )
        if not self.subreddit and not self.usernames and not self.keywords:
            raise ValueError("a reddit job needs a subreddit, usernames or keywords")
        return self


JobPayload = Annotated[XJob | RedditJob, Field(discriminator="platform")]


class JobSpec(BaseModel):
    """What a customer asks for; the server sets `id` and `created_at`."""

    model_config = ConfigDict(extra="ignore")

    job: JobPayload
    start_date: UtcDatetime | None = None
    end_date: UtcDatetime | None = None
    limit: int = Field(100, ge=1, le=1000)
    keyword_mode: Literal["any", "all"] = "any"
    expire_at: UtcDatetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _only_served_platforms(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("job"), dict):
            platform = data["job"].get("platform")
            if platform not in PLATFORMS:
                raise ValueError(
                    f"platform {platform!r} is not served: miners take only x and reddit jobs"
                )
        return data

    @model_validator(mode="after")
    def _check_dates(self) -> JobSpec:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class CreateJobRequest(BaseModel):
    job: JobSpec


class CreatedJob(BaseModel):
    job_id: str


class ActiveJobsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    since: UtcDatetime

    @model_validator(mode="after")
    def _recent(self) -> ActiveJobsRequest:
        if self.since < datetime.now(UTC) - MAX_SINCE_AGE:
            raise ValueError("since must be at most 10 minutes ago")
        return self


class SubmissionRef(BaseModel):
    # Deployed miners send every submission field; the server sets all but job_id.
    model_config = ConfigDict(extra="ignore")

    job_id: str = Field(min_length=1, max_length=64)


class SubmitRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    submission: SubmissionRef


class ExpiryWindow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    expired_since: UtcDatetime
    expired_until: UtcDatetime

    @model_validator(mode="after")
    def _ordered(self) -> ExpiryWindow:
        if self.expired_until < self.expired_since:
            raise ValueError("expired_until must not be before expired_since")
        return self


class MinerJobsRequest(ExpiryWindow):
    miner_hotkey: str = Field(pattern=r"^[1-9A-HJ-NP-Za-km-z]{1,64}$", description="SS58.")
    limit: int = Field(1000, ge=1, le=1000)


class JobStatsRequest(ExpiryWindow):
    min_submitters: int = Field(5, ge=1, le=100)


class JobsRequest(ExpiryWindow):
    limit: int = Field(10, ge=1, le=10)


# Answers, for the OpenAPI document (routes build them as dicts).


class JobPayloadOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    platform: Literal["x", "reddit"]


class JobOut(BaseModel):
    id: str
    created_at: datetime
    expire_at: datetime
    job: JobPayloadOut
    start_date: datetime | None
    end_date: datetime | None
    limit: int
    keyword_mode: Literal["any", "all"]


class SubmissionOut(BaseModel):
    job_id: str
    miner_hotkey: str
    miner_incentive: float
    submitted_at: datetime
    s3_path: str
    s3_presigned_url: str | None
    s3_content_length: int | None
    s3_etag: str | None
    s3_last_modified: datetime | None


class UploadFormOut(BaseModel):
    url: str
    fields: dict[str, str]


class SubmitAnswer(BaseModel):
    presigned_post_upload_data: UploadFormOut


class ActiveJobs(BaseModel):
    jobs: list[JobOut]


class JobSubmissions(BaseModel):
    submissions: list[SubmissionOut]


class MinerJob(BaseModel):
    job: JobOut
    submission: SubmissionOut


class MinerJobs(BaseModel):
    jobs: list[MinerJob]


class PlatformStats(BaseModel):
    total_jobs: int
    doable_jobs: int


class JobStats(BaseModel):
    platforms: dict[str, PlatformStats]


class JobWithSubmissions(BaseModel):
    job: JobOut
    submissions: list[SubmissionOut]


class JobsWithSubmissions(BaseModel):
    jobs_with_submissions: list[JobWithSubmissions]
