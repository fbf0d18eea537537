"""The bench bucket on SeaweedFS, with a folder per miner for validators to discover."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

from app.dev import create_bucket
from app.seaweed import S3Credentials
from bench.subnet import SOURCES, Neuron


def prepare_bucket(
    endpoint_url: str, credentials: S3Credentials, bucket: str, neurons: list[Neuron], folders: int
) -> None:
    """Creates `bucket` and one small object in each of the first `folders` miner folders."""
    create_bucket(endpoint_url, credentials, bucket)
    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        region_name="us-east-1",
        config=Config(max_pool_connections=16),
    )
    keys = [
        f"data/{SOURCES[i % len(SOURCES)]}/{neurons[i % len(neurons)].coldkey}/part-{i}.parquet"
        for i in range(folders)
    ]
    try:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda key: client.put_object(Bucket=bucket, Key=key, Body=b"x"), keys))
    finally:
        client.close()
