"""The relational database behind the stateful endpoints (jobs, lists, scores).

One schema serves SQLite (the embedded default, `sqlite+aiosqlite://`) and PostgreSQL
(`postgresql+asyncpg://`, for production and several replicas). `Database` holds the async
engine and session factory built from `DATABASE_URL`; `Database.call()` bounds every use so
an unreachable or silent database answers 503 `database_unavailable` in about a second.
Migrations live in `migrations/` (linked as `app/db/migrations`, so installs carry them
inside the package) and apply at start (once across replicas: a PostgreSQL advisory lock,
a file lock for SQLite) and with `s3auth db upgrade`.

Adding a table:

1. Declare the model in your package (`app/<feature>/models.py`) on `app.db.Base`, with
   `UTCDateTime` for every datetime column (SQLite stores naive values; the type gives
   them back timezone-aware, in UTC).
2. Import that module in `app/db/models.py`, so the migration environment sees it.
3. Add a migration: copy the newest file in `migrations/versions/`, give it a new
   `revision` and set `down_revision` to the previous head (or run
   `alembic revision --autogenerate -m "what it adds"` from the repository root with
   `DATABASE_URL` pointing at an up-to-date database). Use only portable types and
   `sa.Index`/`sa.UniqueConstraint`; `tests/db/test_migrations.py` checks the schema
   the migrations build against the models, on both backends.
4. Tests take the `database_url` fixture (tests/database.py): it runs each test once on
   SQLite and once on PostgreSQL, on an empty, migrated database.
"""

from app.db.base import Base, UTCDateTime
from app.db.engine import Database, DatabaseUnavailable

__all__ = ["Base", "Database", "DatabaseUnavailable", "UTCDateTime"]
