"""Which per-hotkey quota a verified request spends: a pure decision from its inputs.

A route names the kind of quota it spends; who called and how long the current Dynamic
Desirability list is may change that. Today's miners ask `/get-file-upload-url` once per
list entry in one burst every 2 hours, so that route's quota follows the list's length
(`RATE_LIMIT_FILE_UPLOADS=auto`). A trusted validator's S3 pass asks for a few listing
pages, file URLs and on-demand facts per miner, far beyond any other validator's needs,
so trusted validators spend `RATE_LIMIT_TRUSTED` instead of `RATE_LIMIT_VALIDATOR`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from limits import RateLimitItem, RateLimitItemPerHour, parse_many

from config import AUTO_LIMIT, Settings

QuotaKind = Literal["miner", "validator", "ondemand_poll", "file_uploads"]
QuotaScope = Literal["miner", "validator", "ondemand_poll", "file_uploads", "trusted"]

SETTING: dict[QuotaKind, str] = {
    "miner": "rate_limit_miner",
    "validator": "rate_limit_validator",
    "ondemand_poll": "rate_limit_ondemand_poll",
    "file_uploads": "rate_limit_file_uploads",
}

# Today's miners upload one snapshot per list entry every 2 hours. Twice the entries per
# window leaves room for a second full burst (a restart re-runs it 30 minutes after start)
# and for the sliding window still counting the previous burst.
AUTO_WINDOW_HOURS = 2
AUTO_PER_ENTRY = 2
AUTO_MINIMUM = 100


@dataclass(frozen=True, slots=True)
class Quota:
    scope: QuotaScope  # names the counter and, in a refusal, whose quota ran out
    items: tuple[RateLimitItem, ...]


@lru_cache(maxsize=64)
def parsed(value: str) -> tuple[RateLimitItem, ...]:
    """A limit setting's items; cached because every signed request asks."""
    return tuple(parse_many(value)) if value.strip() else ()


@lru_cache(maxsize=64)
def auto_file_uploads(list_entries: int) -> tuple[RateLimitItem, ...]:
    amount = max(AUTO_MINIMUM, AUTO_PER_ENTRY * max(0, list_entries))
    return (RateLimitItemPerHour(amount, AUTO_WINDOW_HOURS),)


def file_upload_items(value: str, list_entries: int) -> tuple[RateLimitItem, ...]:
    if value.strip().lower() == AUTO_LIMIT:
        return auto_file_uploads(list_entries)
    return parsed(value)


def choose_quota(
    settings: Settings, kind: QuotaKind | None, trusted: bool, list_entries: int
) -> Quota | None:
    """The quota a request of `kind` spends, or None when it spends none.

    `trusted`: the caller is a validator (permit and stake) named by TRUSTED_VALIDATORS;
    it spends the trusted quota on every route.
    `list_entries`: entries of the current Dynamic Desirability list (0 before any).
    """
    if kind is None:
        return None
    scope: QuotaScope
    if trusted:
        scope, items = "trusted", parsed(settings.rate_limit_trusted)
    elif kind == "file_uploads":
        scope = kind
        items = file_upload_items(settings.rate_limit_file_uploads, list_entries)
    else:
        scope, items = kind, parsed(getattr(settings, SETTING[kind]))
    return Quota(scope, items) if items else None
