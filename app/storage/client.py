"""The boto3 S3 client the service signs and lists with."""

from __future__ import annotations

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from config import Settings


def make_s3_client(settings: Settings) -> BaseClient:
    config = Config(
        region_name=settings.s3_region,
        signature_version="s3v4",
        # Self-hosted endpoints (SeaweedFS, MinIO) rarely resolve bucket subdomains.
        s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
        connect_timeout=3,
        read_timeout=10,
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
    return session.client("s3", endpoint_url=settings.s3_endpoint_url, config=config)
