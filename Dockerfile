FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /srv
COPY requirements.txt pyproject.toml README.md config.py ./
COPY client ./client
COPY app ./app
RUN pip install -r requirements.txt && pip install ./client && pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /srv s3auth

USER s3auth
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthcheck', timeout=4)"
CMD ["s3auth", "serve"]
