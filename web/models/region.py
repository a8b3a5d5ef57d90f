"""Administrative regions (GB/T 2260): province → city → county → township → village."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, PositionMixin, StrEnum, enum_column, position_checks


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


#: Code length of each level: 14, 1410, 141030, 141030100, 141030100201.
CODE_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}


class Region(PositionMixin, Base):
    """One administrative region with its best known point."""

    __tablename__ = "region"
    __table_args__ = (
        *position_checks(),
        CheckConstraint("length(code) IN (2, 4, 6, 9, 12)", name="code_length"),
    )

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    level: Mapped[RegionLevel] = mapped_column(enum_column(RegionLevel, "region_level"))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True, default=None)

    parent: Mapped[Region | None] = relationship(remote_side=[code], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"
