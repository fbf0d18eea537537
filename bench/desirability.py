"""The Dynamic Desirability list the bench publishes before validators read it.

Reads are Tao v2 GETs of the empty body, each with its own nonce (the `empty` recipe).
"""

from __future__ import annotations

import json
import urllib.request

DD_VALIDATOR_PATH = "/dynamic-desirability/validator/get-latest-list"
DD_LIST_PATH = "/dynamic-desirability/list"
ADMIN_KEY = "bench-admin-key"
# Today's production list size is not public; 100 entries answer about 17 KB.
ENTRIES = 100


def bench_list() -> dict[str, object]:
    entries = []
    for i in range(ENTRIES):
        platform = "x" if i % 2 == 0 else "reddit"
        label = f"#topic{i}" if platform == "x" else f"r/topic{i}"
        entries.append(
            {"id": f"bench-{i}", "platform": platform, "weight": 1.0 + i / 10, "label": label}
        )
    return {"entries": entries}


def publish_bench_list(base_url: str) -> str:
    request = urllib.request.Request(
        base_url + DD_LIST_PATH,
        data=json.dumps(bench_list()).encode(),
        method="PUT",
        headers={"X-API-Key": ADMIN_KEY, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["version"])
