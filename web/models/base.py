"""Declarative base, shared column types and the enumerations of the domain (DESIGN §2)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, DateTime, Enum, Float, MetaData, Table, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model; constraint names follow NAMING_CONVENTION."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model here is mapped to a Table (DeclarativeBase types it as any FromClause).
    __table__: ClassVar[Table]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC DateTime, also on SQLite (which forgets the zone): naive values read as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class StrEnum(str, enum.Enum):
    """An enumeration whose values are the strings stored in the database."""

    def __str__(self) -> str:
        return self.value


def enum_column(enum_cls: type[StrEnum], name: str) -> Enum:
    """A VARCHAR column restricted to enum_cls's values by a named CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class PositionSource(StrEnum):
    """Where a position came from (DESIGN §2: every record says which)."""

    GPS = "gps"
    TYPED = "typed"
    GAZETTEER = "gazetteer"
    TOWNSHIP = "township"
    COUNTY_SEAT = "county_seat"
    SYNTHETIC = "synthetic"


class PositionMixin:
    """A WGS-84 position with its source; latitude/longitude ranges are checked by the database."""

    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    position_source: Mapped[PositionSource] = mapped_column(enum_column(PositionSource, "position_source"))


def position_checks() -> tuple[CheckConstraint, CheckConstraint]:
    """Range checks for PositionMixin columns, to put in a model's __table_args__."""
    return (
        CheckConstraint("lat >= -90 AND lat <= 90", name="lat_range"),
        CheckConstraint("lon >= -180 AND lon <= 180", name="lon_range"),
    )


class PovertyStatus(StrEnum):
    REGISTERED_POOR = "registered_poor"  # 建档立卡
    MONITORED = "monitored"  # 监测户
    NON_POOR = "non_poor"


#: Poor households (DESIGN §2): first in plans, the only ones a welfare post goes to, *poor* in figures.
POOR_STATUSES = (PovertyStatus.REGISTERED_POOR, PovertyStatus.MONITORED)


class Ability(StrEnum):
    FULL = "full"
    MODERATE = "moderate"
    LIGHT = "light"
    NONE = "none"


class Demand(StrEnum):
    LIGHT = "light"
    MODERATE = "moderate"
    HEAVY = "heavy"


class WorkArea(StrEnum):
    LOCAL = "local"
    MIGRANT = "migrant"
    ANY = "any"


class PayType(StrEnum):
    PIECE = "piece"
    HOURLY = "hourly"
    DAILY = "daily"
    MONTHLY = "monthly"


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"
