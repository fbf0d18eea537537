"""/metrics shows open on-demand jobs and how far settling is behind."""

from __future__ import annotations

import functools
from datetime import timedelta

from fastapi.testclient import TestClient

from app.main import create_app
from tests.app_state import on_app_loop, services_of
from tests.conftest import S3Server, SettingsFactory
from tests.ondemand.conftest import create_job, job_row, settings_for
from tests.test_metrics import sample


def test_open_jobs_and_settling_lag_are_scraped(
    make_settings: SettingsFactory, sqlite_database_url: str, seaweed: S3Server, bucket: str
) -> None:
    settings = settings_for(make_settings, sqlite_database_url, seaweed, bucket)
    with TestClient(create_app(settings)) as client:
        before = client.get("/metrics").text
        job = job_row(client, create_job(client))
        create_job(client)
        opened = client.get("/metrics").text
        late = job.expire_at + timedelta(seconds=40)
        settler = services_of(client).ondemand.settler
        on_app_loop(client, settler.close)  # only the run below, not the background one
        on_app_loop(client, functools.partial(settler.run_once, late))
        settled = client.get("/metrics").text

    assert sample(before, "s3auth_ondemand_open_jobs") == 0
    assert sample(opened, "s3auth_ondemand_open_jobs") == 2
    # Both jobs were due 30 s before that run (40 s past expiry, minus the 10 s grace).
    lag = sample(settled, "s3auth_ondemand_settle_lag_seconds")
    assert lag is not None and 29 <= lag <= 31
    assert (sample(settled, "s3auth_ondemand_settle_last_success_timestamp_seconds") or 0) > 0
