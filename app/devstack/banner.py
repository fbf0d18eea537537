"""What `s3auth dev` prints: where everything is, and commands that run as printed.

Every command is on lines of its own (a trailing backslash continues it), starts with the
path of the `s3auth` script and names only files that exist, so it can be pasted into a
shell at the repository root. Labels are `#` lines above the command.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from app.devstack.keys import DEV_VALIDATOR_UID, DevKey, dev_validator
from app.devstack.samples import Samples

DD_SAMPLE_JOB = "dev-x-bittensor"


@dataclass(frozen=True)
class DevFacts:
    api_url: str
    s3_url: str
    bucket: str
    data_dir: Path
    keys: list[DevKey]
    samples: Samples
    customer_key: str
    admin_key: str
    dd_version: str
    open_job_id: str


def cli_path() -> str:
    """How to call `s3auth` from here: the virtualenv's bin is usually not on PATH."""
    beside = Path(sys.executable).parent / "s3auth"
    return shown(beside) if beside.exists() else "s3auth"


def shown(path: Path) -> str:
    """A path as typed from the working directory: relative below it, absolute elsewhere."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        relative = str(path)
    return shlex.quote(str(path) if relative.startswith("..") else relative)


def command(*parts: str) -> str:
    """One command of the CLI, wrapped at about 90 columns with continuation lines.

    An option stays on one line with its value.
    """
    lines, line = [], cli_path()
    for part in option_groups(parts):
        if len(line) + 1 + len(part) > 88:
            lines.append(line + " \\")
            line = "    " + part
        else:
            line += " " + part
    return "\n".join([*lines, line])


def option_groups(parts: tuple[str, ...]) -> list[str]:
    """The parts with each option joined to its value (`--url http://...`)."""
    groups: list[str] = []
    for part in parts:
        previous = groups[-1] if groups else ""
        if previous.startswith("--") and " " not in previous and not part.startswith("--"):
            groups[-1] += " " + part
        else:
            groups.append(part)
    return groups


def banner(facts: DevFacts) -> str:
    miner = facts.keys[0]
    validator = dev_validator(facts.keys)
    miner_hotkey = miner.hotkey.ss58_address
    api = ("--url", facts.api_url)
    as_miner = (*api, "--hotkey-uri", miner.hotkey_uri)
    as_validator = (*api, "--hotkey-uri", validator.hotkey_uri)
    as_customer = (*api, "--api-key", facts.customer_key)
    coldkey = ("--coldkey", miner.coldkey.ss58_address)
    downloads = shown(facts.data_dir / "downloads")
    keys = "\n".join(
        f"  {key.role:<9} hotkey  {key.hotkey_uri:<20} {key.hotkey.ss58_address}\n"
        f"  {'':<9} coldkey {key.coldkey_uri:<20} {key.coldkey.ss58_address}"
        for key in facts.keys
    )
    return f"""
s3auth dev: development stack (these keys are public; never use them on a real subnet)

  API      {facts.api_url}
  docs     {facts.api_url}/docs  (pick a dev identity; Try it out signs with its key)
  S3       {facts.s3_url}   bucket: {facts.bucket}
  data     {facts.data_dir}

Registered dev keys (secret URIs; the validator is UID {DEV_VALIDATOR_UID}, trusted):
{keys}

Commands to paste at the repository root (each runs as printed):

# A miner uploads one file for Dynamic Desirability job {DD_SAMPLE_JOB} (today's per-file flow):
{command("miner", "upload", shown(facts.samples.upload), "--job-id", DD_SAMPLE_JOB, *as_miner)}
# The trusted validator lists that miner's hotkey folder, then downloads it:
{command("validator", "ls", "--miner-hotkey", miner_hotkey, *as_validator)}
{command("validator", "get", "--miner-hotkey", miner_hotkey, "--out", downloads, *as_validator)}
# The validation scores published so far:
{command("validator", "results", *as_validator)}
# A folder upload under the miner's coldkey (the older flow), and its listing:
{command("miner", "upload", "README.md", "--source", "x", *as_miner, *coldkey)}
{command("validator", "ls", "--source", "x", *as_validator)}

# On-demand jobs: two open jobs and one answered job are seeded; the customer key is
# {facts.customer_key}
# Create a job (prints its id):
{command("ondemand", "create", "--platform", "x", "--keyword", "'#bittensor'", *as_customer)}
# Answer the seeded open job as the miner, then read it as the customer (answers are
# written under $TMPDIR/s3auth-answers/):
{command("ondemand", "answer", facts.open_job_id, shown(facts.samples.answer), *as_miner)}
{command("ondemand", "show", facts.open_job_id, *as_customer)}
# The miner's answers to jobs that expired in the last 3 hours, as the validator:
{command("ondemand", "submissions", "--miner", miner_hotkey, *as_validator)}

# Dynamic Desirability list {facts.dd_version} is served; publish the sample list
# as a new version:
{command("dd", "publish", shown(facts.samples.dd_list), *api, "--api-key", facts.admin_key)}

Ctrl-C (or SIGTERM) stops the API and SeaweedFS.
"""
