"""Data versions: counters the transactions that change matching inputs bump, so caches know.

A row per scope: ``targets`` moves whenever an opening, batch, welfare post or pickup point is
added, changed or removed; ``holdings`` whenever a placement is (the slots targets hold); and one
row per target whose held slots changed (``opening:12``), stamped with the ``holdings`` version
that changed it. A cache reads two rows to know whether it is current, and the rows above its own
``holdings`` version to know which targets to recount (`web.services.versions`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class DataVersion(Base):
    """One scope's counter; bumped in the transaction that changes what it covers."""

    __tablename__ = "data_version"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)
