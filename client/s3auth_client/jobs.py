"""Today's per-file uploads: one presigned target per parquet file of a Dynamic Desirability job.

`/get-file-upload-url` names the key itself (`data/hotkey=<signer>/job_id=<job>/<filename>`)
and answers 409 when it already exists, so a rerun skips what landed without listing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s3auth_client.api import Api, Auth
from s3auth_client.errors import ApiError, ClientError
from s3auth_client.policy import PolicyLimits, policy_limits
from s3auth_client.retry import RetryPolicy
from s3auth_client.transfer import post_file, put_file

# What the service accepts and validators read row counts from (lower-case hex only).
FILENAME = re.compile(r"data_\d{8}_\d{6}_\d+_[0-9a-f]{16}\.parquet")
FILENAME_HELP = "data_<YYYYMMDD>_<HHMMSS>_<rows>_<16 lower-case hex>.parquet"


def job_folder(hotkey: str, job_id: str) -> str:
    return f"data/hotkey={hotkey}/job_id={job_id}/"


def refuses_filename(name: str) -> str | None:
    if FILENAME.fullmatch(name) is None:
        return f"the name must be {FILENAME_HELP}"
    return None


@dataclass(frozen=True)
class UploadTarget:
    s3_key: str
    url: str
    fields: dict[str, str]
    method: str
    limits: PolicyLimits

    @classmethod
    def from_response(cls, data: dict[str, Any]) -> UploadTarget:
        try:
            fields = {str(k): str(v) for k, v in dict(data.get("fields") or {}).items()}
            return cls(
                s3_key=str(data["s3_key"]),
                url=str(data["url"]),
                fields=fields,
                method=str(data.get("method", "POST")).upper(),
                limits=policy_limits(fields, data),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ClientError(
                f"the service sent an upload target this client cannot read: {exc}"
            ) from None


class JobUploader:
    """Uploads parquet files for one job into the signer's hotkey folder."""

    def __init__(
        self, api: Api, job_id: str, *, auth: Auth, transfer_retry: RetryPolicy | None = None
    ) -> None:
        if auth == "legacy":
            raise ClientError("per-file uploads take Tao v2 or btauth/1 headers, not legacy")
        self.api = api
        self.job_id = job_id
        self.auth = auth
        self.transfer_retry = transfer_retry or api.retry

    @property
    def folder(self) -> str:
        return job_folder(self.api.identity.hotkey_ss58, self.job_id)

    def target(self, filename: str) -> UploadTarget | None:
        """The presigned target for `filename`; None when that key already exists (409)."""
        body = {"job_id": self.job_id, "filename": filename}
        try:
            data = self.api.post("/get-file-upload-url", body, auth=self.auth)
        except ApiError as error:
            if error.status == 409:
                return None
            raise
        return UploadTarget.from_response(data)

    def send(
        self, target: UploadTarget, path: Path, on_progress: Callable[[int], None] | None = None
    ) -> None:
        what = f"upload of {target.s3_key}"
        if target.method == "PUT":
            put_file(self.api.http, target.url, path, what, on_progress)
        else:
            post_file(self.api.http, target.url, target.fields, path, what, on_progress)

    def upload(
        self, path: Path, filename: str, on_progress: Callable[[int], None] | None = None
    ) -> str:
        """ "uploaded" or "exists"; refuses names and sizes the service or policy would."""
        if (reason := refuses_filename(filename)) is not None:
            raise NotUploadable(reason)

        def attempt() -> str:
            # A fresh target per attempt: an expired or spent URL is never reused.
            target = self.target(filename)
            if target is None:
                return "exists"
            if (reason := target.limits.refuses_size(path.stat().st_size)) is not None:
                raise NotUploadable(reason)
            self.send(target, path, on_progress)
            return "uploaded"

        return self.transfer_retry.run(attempt)


class NotUploadable(ClientError):
    """The file can never be uploaded as it is (its name or size); reported, not retried."""
