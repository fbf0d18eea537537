"""Every table's model, imported so the metadata the migrations compare against is complete."""

from app.db.base import Base
from app.desirability import models as _desirability  # noqa: F401
from app.ondemand import models as _ondemand  # noqa: F401
from app.results import models as _results  # noqa: F401

metadata = Base.metadata
