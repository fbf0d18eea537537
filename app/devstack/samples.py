"""Files the banner's commands use, written into the data folder's `samples/`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from app.desirability.dev import DEV_ENTRIES
from app.ondemand.devseed import SAMPLE_ANSWER

# Named as today's miners name per-file uploads, so validators read its row count (100).
UPLOAD_NAME = "data_20260101_000000_100_0123456789abcdef.parquet"
# Over UPLOAD_MIN_BYTES' default (1024): smaller files are refused by the upload policy.
UPLOAD_BYTES = 4096


@dataclass(frozen=True)
class Samples:
    dd_list: Path
    answer: Path
    upload: Path


def write_samples(data_dir: Path) -> Samples:
    folder = data_dir / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    samples = Samples(folder / "dd-list.json", folder / "answer.json", folder / UPLOAD_NAME)
    samples.dd_list.write_text(json.dumps({"entries": list(DEV_ENTRIES)}, indent=2) + "\n")
    samples.answer.write_text(json.dumps(SAMPLE_ANSWER, indent=2) + "\n")
    # Filler, not Parquet: the service stores bytes and checks only names and sizes.
    line = b"s3auth dev sample upload: filler bytes, not a Parquet file\n"
    samples.upload.write_bytes((line * (UPLOAD_BYTES // len(line) + 1))[:UPLOAD_BYTES])
    return samples
