"""Every table's model, imported so the metadata the migrations compare against is complete."""

from app.db.base import Base
from app.ondemand import models as _ondemand  # noqa: F401

metadata = Base.metadata
