"""Kept so `from app.logs import configure_logging` goes on working: see app/ops/logs.py."""

from app.ops.logs import configure_logging

__all__ = ["configure_logging"]
