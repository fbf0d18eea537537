"""The one datetime type every request field uses: normalised to UTC, within 1970..9999.

Python's datetime stops at years 1 and 9999. A value at an edge with an extreme offset
(`0001-01-01T00:00:00+14:00`) parses, then overflows when moved to UTC, which would be a
500 before any signature check. Moving it here turns that into a validation error (422),
and the year bound keeps every later `timestamp()` and comparison in range.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

MIN_YEAR = 1970
MAX_YEAR = 9999


def to_utc(value: datetime) -> datetime:
    """`value` in UTC (a naive one is taken as UTC); ValueError outside 1970..9999."""
    try:
        moved = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"must be in the years {MIN_YEAR} to {MAX_YEAR} (UTC)") from None
    if not MIN_YEAR <= moved.year <= MAX_YEAR:
        raise ValueError(f"must be in the years {MIN_YEAR} to {MAX_YEAR} (UTC)")
    return moved


# Naive values are taken as UTC (deployed clients send both forms).
UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]
# Values that must name their offset.
AwareUtcDatetime = Annotated[AwareDatetime, AfterValidator(to_utc)]
