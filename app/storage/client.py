"""The boto3 S3 client the service signs and lists with."""

from __future__ import annotations

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from config import Settings

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5


def make_s3_client(
    settings: Settings, *, public: bool = False, read_timeout: float = READ_TIMEOUT_SECONDS
) -> BaseClient:
    """The client for the service's own calls, or with `public` the one that presigns for
    the address clients reach (it never sends a request). `read_timeout`: longer for
    background work whose calls are slow by nature (a DeleteObjects of 1,000 keys takes
    seconds on some stores)."""
    endpoint = settings.presign_endpoint_url if public else settings.s3_endpoint_url
    config = Config(
        region_name=settings.s3_region,
        signature_version="s3v4",
        # Self-hosted endpoints (SeaweedFS, MinIO) rarely resolve bucket subdomains.
        s3={"addressing_style": "path" if endpoint else "auto"},
        # A hung S3 must free its thread soon: see app/storage/calls.py.
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=read_timeout,
        retries={"max_attempts": 2, "mode": "standard"},
        max_pool_connections=32,
    )
    key = settings.aws_access_key_id
    secret = settings.aws_secret_access_key
    session = boto3.session.Session(
        aws_access_key_id=key.get_secret_value() if key else None,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        region_name=settings.s3_region,
    )
    return session.client("s3", endpoint_url=endpoint, config=config)
