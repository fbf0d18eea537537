"""Signed-load benchmark of the service: `python -m bench` (or `make bench`)."""
