"""Background refreshes stop between runs: a run in progress is never cut short."""

from __future__ import annotations

import asyncio

from app.db import DatabaseUnavailable
from app.periodic import Periodic


def test_stop_lets_the_run_in_progress_finish() -> None:
    async def scenario() -> list[str]:
        seen: list[str] = []
        started = asyncio.Event()

        async def run() -> None:
            seen.append("started")
            started.set()
            await asyncio.sleep(0.2)
            seen.append("finished")

        periodic = Periodic(run, 3600, "test")
        periodic.start(first_now=True)
        await started.wait()
        await periodic.stop()
        return seen

    assert asyncio.run(scenario()) == ["started", "finished"]


def test_failed_runs_do_not_end_the_loop() -> None:
    async def scenario() -> int:
        calls = 0
        third = asyncio.Event()

        async def run() -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise DatabaseUnavailable()
            if calls == 2:
                raise ValueError("a bug")
            third.set()

        periodic = Periodic(run, 0.01, "test")
        periodic.start(first_now=True)
        await asyncio.wait_for(third.wait(), 30)
        await periodic.stop()
        return calls

    assert asyncio.run(scenario()) >= 3
