"""What can go wrong on the client side, told apart so callers can decide to retry."""

from __future__ import annotations


class ClientError(Exception):
    """Base of every error the client raises on purpose."""


class ApiError(ClientError):
    """The service refused a request: its status, stable `code` and one-sentence detail."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        retry_after: float | None = None,
        server_time: int | None = None,
    ) -> None:
        super().__init__(f"{detail} ({status} {code})")
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        self.server_time = server_time

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT_STATUSES


class TransferError(ClientError):
    """An upload or download to S3 failed; `transient` says whether a retry may help."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        transient: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient
        self.retry_after = retry_after


# Rate limiting and unavailable dependencies pass; everything else is the caller's fault.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
