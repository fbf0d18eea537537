# The production image: the API only (SeaweedFS and the test tools are not installed).
# The base is pinned to an exact Python and Debian release and to the digest of that tag's
# multi-architecture index, so a rebuild gets the same bytes (check a newer one with
# `docker buildx imagetools inspect python:3.11.14-slim-bookworm` before moving it).
FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /srv
RUN useradd --system --uid 10001 --home-dir /srv s3auth

# Dependencies first, in their own layer: a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The client package holds the protocol pieces the service shares with miners' tools;
# its dependencies (bittensor-wallet, httpx2, rich) came with requirements.txt.
COPY client ./client
COPY pyproject.toml README.md config.py ./
COPY app ./app
COPY migrations ./migrations
COPY docs ./docs
RUN pip install --no-deps ./client .

USER s3auth
EXPOSE 8000
# Ready: the metagraph is fresh and the database, Redis and bucket answer (GET /readyz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/readyz', timeout=4)"
CMD ["s3auth", "serve"]
