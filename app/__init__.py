"""s3-auth-server: scoped S3 access for a Bittensor subnet's miners and validators."""

__version__ = "0.1.0"
