"""Distances on the Earth: vectorised haversine for matching, geodesic for what people read.

Matching works on great-circle (haversine) distances computed in bulk with numpy and
``sklearn.neighbors.BallTree``; the few distances shown to a cadre come from
``geopy.distance.geodesic`` (WGS-84 ellipsoid), which is exact but costs tens of microseconds
each, so it is never called in a loop over all rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from geopy.distance import geodesic
from sklearn.neighbors import BallTree

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG) used by every haversine distance in the engine."""

RADIUS_SLACK = 1.0 + 1e-9
"""BallTree radius queries are widened by this factor; callers then cut at the exact limit."""

_GEODESIC = geodesic()


def geodesic_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Exact WGS-84 distance in km between two (lat, lon) points, for display."""
    return float(_GEODESIC.measure(a, b))


def haversine_km(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike) -> np.ndarray:
    """Great-circle distance in km between (arrays of) points given in degrees; broadcasts."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    return haversine_rad_km(phi1, np.radians(lon1), np.cos(phi1), phi2, np.radians(lon2), np.cos(phi2))


def haversine_rad_km(
    phi1: np.ndarray, lmb1: np.ndarray, cos1: np.ndarray, phi2: np.ndarray, lmb2: np.ndarray, cos2: np.ndarray
) -> np.ndarray:
    """``haversine_km`` of points in radians with their latitudes' cosines, computed once per point, not per pair."""
    h = np.sin((phi2 - phi1) / 2) ** 2 + cos1 * cos2 * np.sin((lmb2 - lmb1) / 2) ** 2
    km: np.ndarray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return km


def to_radians(lat: npt.ArrayLike, lon: npt.ArrayLike) -> np.ndarray:
    """Stack degrees into the (n, 2) radian (lat, lon) array that haversine BallTrees expect."""
    radians: np.ndarray = np.radians(np.column_stack([np.asarray(lat, float), np.asarray(lon, float)]))
    return radians


class PointIndex:
    """A haversine BallTree over (lat, lon) points answering radius queries in km."""

    def __init__(self, lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray, leaf_size: int = 40):
        self.size = len(lat)
        self._tree = BallTree(to_radians(lat, lon), metric="haversine", leaf_size=leaf_size) if self.size else None

    def near_km(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Indices of the points within ``radius_km`` of one point (the interactive fast path)."""
        if self._tree is None:
            return np.empty(0, np.int64)
        query = np.radians(np.array([[lat, lon]], float))
        near: np.ndarray = self._tree.query_radius(query, r=radius_km / EARTH_RADIUS_KM)[0]
        return near

    def within_km(
        self, lat: npt.ArrayLike, lon: npt.ArrayLike, radius_km: npt.ArrayLike
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points within ``radius_km`` (scalar or one per query) of each query point.

        Returns flat arrays ``(query_index, point_index, distance_km)``.
        """
        lat_q = np.atleast_1d(np.asarray(lat, float))
        lon_q = np.atleast_1d(np.asarray(lon, float))
        if self._tree is None or lat_q.size == 0:
            empty_i = np.empty(0, np.int64)
            return empty_i, empty_i.copy(), np.empty(0, float)
        radius = np.broadcast_to(np.asarray(radius_km, float), lat_q.shape) / EARTH_RADIUS_KM
        ind, dist = self._tree.query_radius(to_radians(lat_q, lon_q), r=radius, return_distance=True)
        counts = np.fromiter((len(i) for i in ind), np.int64, count=len(ind))
        query = np.repeat(np.arange(len(ind), dtype=np.int64), counts)
        if counts.sum() == 0:
            return query, np.empty(0, np.int64), np.empty(0, float)
        return query, np.concatenate(ind).astype(np.int64), np.concatenate(dist) * EARTH_RADIUS_KM


def pairs_within_km(
    lat_a: npt.ArrayLike, lon_a: npt.ArrayLike, lat_b: npt.ArrayLike, lon_b: npt.ArrayLike, radius_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)`` with ``b[j]`` within ``radius_km`` of ``a[i]``, by one batched BallTree query.

    The tree holds the larger side and the smaller side is queried all at once, so the cost is
    one tree build plus the pairs found. The radius is widened by ``RADIUS_SLACK``: callers cut
    at the exact limit with ``haversine_km``, the one formula every distance in the engine uses.
    """
    a = np.asarray(lat_a, float), np.asarray(lon_a, float)
    b = np.asarray(lat_b, float), np.asarray(lon_b, float)
    empty = np.empty(0, np.int64)
    if a[0].size == 0 or b[0].size == 0:
        return empty, empty.copy()
    flip = a[0].size < b[0].size  # the tree over the larger side
    tree_side, query_side = (b, a) if flip else (a, b)
    tree = BallTree(to_radians(*tree_side), metric="haversine")
    found = tree.query_radius(to_radians(*query_side), r=radius_km * RADIUS_SLACK / EARTH_RADIUS_KM)
    counts = np.fromiter((len(f) for f in found), np.int64, count=len(found))
    if counts.sum() == 0:
        return empty, empty.copy()
    query = np.repeat(np.arange(len(found), dtype=np.int64), counts)
    hit = np.concatenate(found).astype(np.int64, copy=False)
    return (query, hit) if flip else (hit, query)
