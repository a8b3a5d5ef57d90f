"""Put the offline gazetteer into the database (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from seed.gazetteer import RegionRecord, load_shanxi
from web.models import Region


def ensure_regions(session: Session, records: Iterable[RegionRecord] | None = None) -> int:
    """Insert the regions not yet in the database (Shanxi's by default); return how many were added.

    A record without a position takes its parent's point, marked as borrowed from the seat.
    """
    records = list(load_shanxi() if records is None else records)
    known = set(session.scalars(select(Region.code)))
    points = {code: (lat, lon) for code, lat, lon in session.execute(select(Region.code, Region.lat, Region.lon))}
    rows = []
    for record in records:
        if record.code in known:
            continue
        lat, lon, source = record.lat, record.lon, record.position_source or "gazetteer"
        if lat is None or lon is None:
            if record.parent_code not in points:
                raise ValueError(f"{record.code} {record.name}: no position and no parent with one")
            (lat, lon), source = points[record.parent_code], "county_seat"
        points[record.code] = (lat, lon)
        known.add(record.code)
        rows.append(
            {
                "code": record.code,
                "name": record.name,
                "level": record.level,
                "parent_code": record.parent_code,
                "lat": lat,
                "lon": lon,
                "position_source": source,
            }
        )
    if rows:
        session.execute(insert(Region), rows)
    return len(rows)
