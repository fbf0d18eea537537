"""The hand-written bundle JSON parses, escapes any folder name and holds the right URLs."""

from __future__ import annotations

import json

from app.storage.bundle import bundle_urls_json
from app.storage.discovery import Folders
from app.storage.presign import Presigner
from tests.storage.test_presign import FROZEN_UNIX, s3

ODD_NAMES = ['quo"te', "back\\slash", "ünï cödé", "tab\there", "5Fplain", "sp ace+plus"]


def test_bundle_json_round_trips_every_folder_name_with_its_own_url() -> None:
    presigner = Presigner(s3("http://127.0.0.1:8333", "us-east-1"), "b1", clock=lambda: FROZEN_UNIX)
    folders = Folders({"x": tuple(ODD_NAMES), "reddit": ("5Fplain",)}, listed_at=0)

    urls = json.loads(bundle_urls_json(presigner, folders, ("x", "reddit"), 600))

    assert urls["global"]["list_all_data"] == presigner.list_url(
        "data/", expires_in=600, delimiter="/"
    )
    assert urls["sources"]["reddit"] == {
        "list_miners": presigner.list_url("data/reddit/", expires_in=600, delimiter="/"),
        "prefix": "data/reddit/",
    }
    assert set(urls["miners"]) - {"list_all_miners"} == set(ODD_NAMES)
    assert set(urls["miners"]["5Fplain"]) == {"x", "reddit"}
    for name in ODD_NAMES:
        entry = urls["miners"][name]["x"]
        assert entry["prefix"] == f"data/x/{name}/"
        assert entry["list_files"] == presigner.list_url(f"data/x/{name}/", expires_in=600)


def test_bundle_json_escapes_an_unusual_endpoint() -> None:
    presigner = Presigner(s3("http://127.0.0.1:8333", "us-east-1"), "b1", clock=lambda: FROZEN_UNIX)
    presigner.addressing  # noqa: B018 - resolve it before altering
    object.__setattr__(presigner._addressing, "origin", 'http://we"ird')

    urls = json.loads(bundle_urls_json(presigner, Folders({}, 0), ("x",), 600))

    assert urls["global"]["list_all_data"].startswith('http://we"ird/b1?')
