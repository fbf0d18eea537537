"""One subnet hour as a schedule of calls, at the cadence today's clients keep.

Cadences come from the clients' code (shared SN13-CLIENTS.md §3, §5.6): every miner polls
for on-demand jobs every 5 s, uploads one snapshot per list entry in one burst every
2 hours and reads the list every 20 minutes; every validator evaluates each miner at most
hourly in batches of 10 (one miner-jobs call per miner, one list read per batch), asks
for job stats every 10 minutes and (except UID 89) for published scores every 5 minutes;
UID 89 also runs its S3 pass: listing pages, one batch of file URLs and a published
score per miner. A customer creates a job every 2 minutes; an operator publishes a new
list once. Miners' submissions and the customer's reads depend on answers (job ids), so
the driver makes them; this module only plans what is known in advance.

Placeholders in bodies ("$since", "$3h_ago", "$now", "$expire") are filled when the call
is sent, since simulated time runs faster than the server's clock.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

HOUR = 3600.0
POLL_SECONDS = 5.0
UPLOAD_CYCLE_SECONDS = 7200.0
MINER_LIST_READ_SECONDS = 1200.0
BATCH = 10
STATS_SECONDS = 600.0
RESULTS_READ_SECONDS = 300.0
LISTING_PAGES = 3
JOB_EVERY_SECONDS = 120.0
PUBLISH_AT = 1800.0
TRUSTED_UID = 89
FIRST_VALIDATOR_UID = 64
CUSTOMER, OPERATOR = -1, -2

POLL = "/on-demand/miner/jobs/active"
UPLOAD_URL = "/get-file-upload-url"
MINER_LIST = "/dynamic-desirability/miner/get-latest-list"
VALIDATOR_LIST = "/dynamic-desirability/validator/get-latest-list"
MINER_JOBS = "/on-demand/validator/miner-jobs"
STATS = "/on-demand/validator/jobs/stats"
RESULTS = "/s3-validation/results"
LISTING = "/get-miner-list"
FILE_URLS = "/get-file-presigned-urls"
CREATE_JOB = "/on-demand/constellation/jobs"
PUBLISH = "/dynamic-desirability/list"


@dataclass(frozen=True)
class Member:
    uid: int
    validator: bool
    uri: str
    hotkey: str
    coldkey: str

    @property
    def address(self) -> str:
        """Its own client address (X-Forwarded-For), as each neuron has in the network."""
        return f"10.{self.uid // 250}.{self.uid % 250}.7"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None  # None: a GET that signs the empty body
    route: str = ""  # the figures' label; the path when empty

    @property
    def label(self) -> str:
        return self.route or self.path


@dataclass(frozen=True)
class Event:
    at: float  # simulated seconds since the hour began
    owner: int  # the signer's uid, or CUSTOMER / OPERATOR (API-key calls)
    calls: tuple[Call, ...]  # sent one after another


def member_uids(miners: int, validators: int) -> tuple[list[int], list[int]]:
    """Validators hold uids from 64 on (UID 89 among them); miners hold the rest."""
    assert validators > TRUSTED_UID - FIRST_VALIDATOR_UID, "UID 89 must be a validator"
    validator_uids = list(range(FIRST_VALIDATOR_UID, FIRST_VALIDATOR_UID + validators))
    taken = set(validator_uids)
    miner_uids = [u for u in range(miners + validators) if u not in taken][:miners]
    return miner_uids, validator_uids


def list_entry_ids(count: int) -> list[str]:
    return [f"crawler-{n}-subnethour" for n in range(count)]


def list_entries(count: int) -> list[dict[str, Any]]:
    return [
        {"id": job, "platform": ("x", "reddit")[n % 2], "weight": 1.0, "label": f"#topic{n}"}
        for n, job in enumerate(list_entry_ids(count))
    ]


def _every(rng: random.Random, period: float, until: float = HOUR) -> list[float]:
    """Times `period` apart from a random phase, within the hour."""
    phase = rng.uniform(0, period)
    return [phase + k * period for k in range(math.ceil((until - phase) / period))]


def miner_events(rng: random.Random, miner: Member, jobs: list[str]) -> list[Event]:
    since = {"since": "$since"}
    events = [Event(t, miner.uid, (Call("POST", POLL, since),)) for t in _every(rng, POLL_SECONDS)]
    events += [
        Event(t, miner.uid, (Call("GET", MINER_LIST, None),))
        for t in _every(rng, MINER_LIST_READ_SECONDS)
    ]
    # One burst per 2-hour cycle, so about half the miners burst in any one hour.
    burst_at = rng.uniform(0, UPLOAD_CYCLE_SECONDS)
    if burst_at < HOUR:
        stamp = rng.randrange(16**8)
        burst = tuple(
            Call(
                "POST",
                UPLOAD_URL,
                {
                    "job_id": job,
                    "filename": f"data_20260805_141502_{n + 1}_{stamp:08x}{n:08x}.parquet",
                },
            )
            for n, job in enumerate(jobs)
        )
        events.append(Event(burst_at, miner.uid, burst))
    return events


def window(**extra: Any) -> dict[str, Any]:
    return {"expired_since": "$3h_ago", "expired_until": "$now", **extra}


def validator_events(rng: random.Random, validator: Member, miners: list[Member]) -> list[Event]:
    uid = validator.uid
    batches = math.ceil(len(miners) / BATCH)
    events = []
    for n, t in enumerate(_every(rng, HOUR / batches)[:batches]):
        for miner in miners[n * BATCH : (n + 1) * BATCH]:
            body = {"miner_hotkey": miner.hotkey, **window(limit=1000)}
            events.append(Event(t, uid, (Call("POST", MINER_JOBS, body),)))
        events.append(Event(t, uid, (Call("GET", VALIDATOR_LIST, None),)))
    stats = Call("POST", STATS, window(min_submitters=5))
    events += [Event(t, uid, (stats,)) for t in _every(rng, STATS_SECONDS)]
    if uid == TRUSTED_UID:
        events += s3_pass(rng, validator, miners)
    else:
        read = Call("GET", RESULTS, None, route=f"GET {RESULTS}")
        events += [Event(t, uid, (read,)) for t in _every(rng, RESULTS_READ_SECONDS)]
    return events


def s3_pass(rng: random.Random, trusted: Member, miners: list[Member]) -> list[Event]:
    """UID 89's S3 validation of every miner, spread over the hour, one miner at a time."""
    spacing = HOUR / len(miners)
    phase = rng.uniform(0, spacing)
    events = []
    for n, miner in enumerate(miners):
        hotkey = miner.hotkey
        pages = [Call("POST", LISTING, {"miner_hotkey": hotkey})] + [
            Call("POST", LISTING, {"miner_hotkey": hotkey, "continuation_token": f"page-{p}"})
            for p in range(1, LISTING_PAGES)
        ]
        folder = f"data/hotkey={hotkey}/job_id=crawler-0-subnethour/"
        files = {
            "miner_hotkey": hotkey,
            "file_keys": [
                f"{folder}data_20260805_141502_{k + 1}_{k:016x}.parquet" for k in range(5)
            ],
            "expiry_hours": 3,
        }
        score = {"effective_size_bytes": 1.5e8, "validation_passed": True, "scraper_pass_rate": 0.9}
        publish = {"results": [{"miner_hotkey": hotkey, "score": score}]}
        calls = (
            *pages,
            Call("POST", FILE_URLS, files),
            Call("POST", RESULTS, publish, route=f"POST {RESULTS}"),
        )
        events.append(Event(phase + n * spacing, trusted.uid, calls))
    return events


def operator_events(entries: int) -> list[Event]:
    body = {"entries": list_entries(entries)}
    return [Event(PUBLISH_AT, OPERATOR, (Call("PUT", PUBLISH, body),))]


def customer_events() -> list[Event]:
    job = {"job": {"platform": "x", "keywords": ["#bittensor"]}, "expire_at": "$expire"}
    create = Call("POST", CREATE_JOB, {"job": job})
    return [Event(t, CUSTOMER, (create,)) for t in _every(random.Random(0), JOB_EVERY_SECONDS)]


def plan(members: list[Member], entries: int, seed: int = 13) -> list[Event]:
    """Every planned call of the hour, by time; the same for the same inputs."""
    rng = random.Random(seed)
    miners = [m for m in members if not m.validator]
    jobs = list_entry_ids(entries)
    events: list[Event] = []
    for member in members:
        if member.validator:
            events += validator_events(rng, member, miners)
        else:
            events += miner_events(rng, member, jobs)
    events += operator_events(entries) + customer_events()
    events.sort(key=lambda e: e.at)
    return events


def calls_by_route(events: list[Event], owner: int | None = None) -> Counter[str]:
    return Counter(
        call.label for e in events if owner is None or e.owner == owner for call in e.calls
    )
