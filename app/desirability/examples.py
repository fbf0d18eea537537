"""Example requests and answers of the Dynamic Desirability endpoints, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

ENTRIES: list[dict[str, Any]] = [
    {
        "id": "crawler-7-h4rptebsja6qbdmocrt98",
        "platform": "x",
        "weight": 2.4,
        "label": "#bittensor",
        "keyword": None,
        "post_start_datetime": None,
        "post_end_datetime": None,
        "expires_at": None,
        "max_rows": 500000,
    },
    {
        "id": "reddit-ml-2026-08",
        "platform": "reddit",
        "weight": 1.0,
        "label": "r/MachineLearning",
        "keyword": "agents",
        "post_start_datetime": "2026-08-01T00:00:00Z",
        "post_end_datetime": "2026-08-31T23:59:59Z",
        "expires_at": "2026-09-01T00:00:00Z",
        "max_rows": None,
    },
]
PUBLISH_REQUEST = {
    "entries": [
        {"id": "crawler-7-h4rptebsja6qbdmocrt98", "platform": "x", "weight": 2.4,
         "label": "#bittensor", "max_rows": 500000},
        {"id": "reddit-ml-2026-08", "platform": "reddit", "weight": 1.0,
         "label": "r/MachineLearning", "keyword": "agents",
         "post_start_datetime": "2026-08-01T00:00:00Z",
         "post_end_datetime": "2026-08-31T23:59:59+00:00", "expires_at": "2026-09-01T00:00:00Z"},
    ]
}  # fmt: skip
VERSION = "2026-08-05T12:00:00Z-000042"
GENERATED_AT = "2026-08-05T12:00:00.123456Z"
LIST_ANSWER = {"version": VERSION, "generated_at": GENERATED_AT, "entries": ENTRIES}
PUBLISH_ANSWER = {"version": VERSION, "generated_at": GENERATED_AT, "entries": 2}
