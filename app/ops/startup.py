"""A service that cannot start says why in a few lines and exits 3.

Before uvicorn starts, `s3auth serve` reaches and migrates its database once. When that
fails, an operator reading a pod's log gets the cause and the setting to look at, not
hundreds of lines of tracebacks from every worker; `LOG_LEVEL=debug` adds the traceback.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from typing import IO

from sqlalchemy.engine import make_url

from app.ops.logs import Redactor

# uvicorn's own exit status for a failed start (a lifespan that raised).
STARTUP_FAILURE = 3
MAX_CAUSE_CHARS = 300
# Loggers that would add lines of their own to a failed migration.
QUIET_DURING_CHECK = ("alembic", "sqlalchemy", "asyncio", "app.db")


def shown_url(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown by scheme only
        return url.split("://", 1)[0] + "://..."


def cause_of(exc: BaseException) -> str:
    """One line: the innermost exception's type and first line of its message."""
    while exc.__cause__ is not None and exc.__cause__ is not exc:
        exc = exc.__cause__
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[:MAX_CAUSE_CHARS]


def failure_lines(url: str, exc: BaseException) -> list[str]:
    return [
        "s3auth: cannot start: the database cannot be reached or migrated.",
        f"  DATABASE_URL: {shown_url(url)}",
        f"  cause: {Redactor()(cause_of(exc))}",
        "  Check that the server is up and the database exists (LOG_LEVEL=debug shows the "
        "traceback).",
    ]


def prepare_database(url: str, *, debug: bool = False, stream: IO[str] | None = None) -> int:
    """0 when the database answers and is migrated; else the lines above and 3."""
    out = stream if stream is not None else sys.stderr
    levels = {name: logging.getLogger(name).level for name in QUIET_DURING_CHECK}
    if not debug:
        for name in QUIET_DURING_CHECK:
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        from app.db.migrate import upgrade_url  # alembic logs as it loads

        asyncio.run(upgrade_url(url))
    except Exception as exc:
        if debug:
            traceback.print_exception(exc, file=out)
        for line in failure_lines(url, exc):
            print(line, file=out)
        return STARTUP_FAILURE
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    return 0
