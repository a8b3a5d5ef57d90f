"""Distances on the Earth: vectorised haversine for matching, geodesic for what people read.

Matching works on great-circle (haversine) distances computed in bulk with numpy. Radius queries
use two trees, each where it was measured to win: ``scipy.spatial.cKDTree`` over points on the
unit sphere (a great-circle radius is a chord there, ``2 sin(θ/2)``) for one point with few hits
(a laborer's targets: no per-call overhead worth counting), and two of them walked together for
many query points at once (a plan's candidate pairs, handed back as arrays); and
``sklearn.neighbors.BallTree`` with the haversine metric for a few query points with thousands of
hits (a posting's candidates), since it hands back index and distance arrays where one KD-tree
builds Python lists. The few distances shown to a cadre are geodesics on the WGS-84 ellipsoid
(``pyproj.Geod``, Karney's algorithm), computed for the shown pairs together in one vectorised
call, never in a loop over all rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from pyproj import Geod
from scipy.spatial import cKDTree
from sklearn.neighbors import BallTree

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG) used by every haversine distance in the engine."""

RADIUS_SLACK = 1.0 + 1e-9
"""Radius queries are widened by this factor; callers then cut at the exact limit."""

_WGS84 = Geod(ellps="WGS84")


def geodesic_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Exact WGS-84 distance in km between two (lat, lon) points, for display."""
    return float(_WGS84.inv(a[1], a[0], b[1], b[0])[2]) / 1000.0


def geodesics_km(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike) -> np.ndarray:
    """``geodesic_km`` between (arrays of) points in degrees, in one vectorised call; broadcasts."""
    lat1_a, lon1_a, lat2_a, lon2_a = np.broadcast_arrays(*(np.asarray(v, float) for v in (lat1, lon1, lat2, lon2)))
    if lat1_a.size == 0:
        return np.empty(lat1_a.shape, float)
    km: np.ndarray = np.asarray(_WGS84.inv(lon1_a, lat1_a, lon2_a, lat2_a)[2]) / 1000.0
    return km


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


def unit_vectors(lat: npt.ArrayLike, lon: npt.ArrayLike) -> np.ndarray:
    """(n, 3) points on the unit sphere of (lat, lon) degrees: the space the radius trees work in."""
    phi, lmb = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    cos_phi = np.cos(phi)
    return np.column_stack([cos_phi * np.cos(lmb), cos_phi * np.sin(lmb), np.sin(phi)])


def chord(radius_km: npt.ArrayLike) -> np.ndarray:
    """The straight-line distance on the unit sphere of a great-circle distance in km."""
    return 2.0 * np.sin(np.minimum(np.asarray(radius_km, float) / EARTH_RADIUS_KM, np.pi) / 2.0)


class PointIndex:
    """A radius index over (lat, lon) points answering great-circle radius queries in km.

    Each kind of query builds its tree on first use (see the module's note), so an index asked only
    one kind of question holds one tree.
    """

    def __init__(self, lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray):
        self.size = len(lat)
        self.lat, self.lon = np.asarray(lat, float), np.asarray(lon, float)
        self._phi, self._lmb = np.radians(self.lat), np.radians(self.lon)
        self._cos = np.cos(self._phi)
        self._kd: cKDTree | None = None
        self._ball: BallTree | None = None

    def near_km(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Indices of the points within ``radius_km`` of one point (the interactive fast path)."""
        if not self.size:
            return np.empty(0, np.int64)
        if self._kd is None:
            self._kd = cKDTree(unit_vectors(self.lat, self.lon))
        found = self._kd.query_ball_point(unit_vectors([lat], [lon])[0], float(chord(radius_km)), return_sorted=False)
        return np.fromiter(found, np.int64, count=len(found))

    def within_km(
        self, lat: npt.ArrayLike, lon: npt.ArrayLike, radius_km: npt.ArrayLike
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points within ``radius_km`` (scalar or one per query) of each query point.

        Returns flat arrays ``(query_index, point_index, distance_km)``.
        """
        lat_q = np.atleast_1d(np.asarray(lat, float))
        lon_q = np.atleast_1d(np.asarray(lon, float))
        if not self.size or lat_q.size == 0:
            empty_i = np.empty(0, np.int64)
            return empty_i, empty_i.copy(), np.empty(0, float)
        if self._ball is None:
            self._ball = BallTree(np.column_stack([self._phi, self._lmb]), metric="haversine")
        radius = np.broadcast_to(np.asarray(radius_km, float), lat_q.shape) / EARTH_RADIUS_KM
        phi_q, lmb_q = np.radians(lat_q), np.radians(lon_q)
        found = self._ball.query_radius(np.column_stack([phi_q, lmb_q]), r=radius)
        counts = np.fromiter((len(i) for i in found), np.int64, count=len(found))
        query = np.repeat(np.arange(len(found), dtype=np.int64), counts)
        if counts.sum() == 0:
            return query, np.empty(0, np.int64), np.empty(0, float)
        hit = np.concatenate(found).astype(np.int64, copy=False)
        # The distance by the engine's one formula (not the tree's own), so that every cut at a limit agrees.
        km = haversine_rad_km(
            phi_q[query], lmb_q[query], np.cos(phi_q)[query], self._phi[hit], self._lmb[hit], self._cos[hit]
        )
        return query, hit, km


def pairs_within_km(
    lat_a: npt.ArrayLike, lon_a: npt.ArrayLike, lat_b: npt.ArrayLike, lon_b: npt.ArrayLike, radius_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)`` with ``b[j]`` within ``radius_km`` of ``a[i]``, by one dual-tree query.

    A tree over each side, walked together (``cKDTree.sparse_distance_matrix``), hands the pairs back
    as arrays, with no Python list per query point: the cost is two tree builds plus the pairs found.
    The radius is widened by ``RADIUS_SLACK``: callers cut at the exact limit with ``haversine_km``,
    the one formula every distance in the engine uses.
    """
    a = np.asarray(lat_a, float), np.asarray(lon_a, float)
    b = np.asarray(lat_b, float), np.asarray(lon_b, float)
    if a[0].size == 0 or b[0].size == 0:
        empty = np.empty(0, np.int64)
        return empty, empty.copy()
    radius = float(chord(radius_km * RADIUS_SLACK))
    found = cKDTree(unit_vectors(*a)).sparse_distance_matrix(cKDTree(unit_vectors(*b)), radius, output_type="ndarray")
    return found["i"].astype(np.int64), found["j"].astype(np.int64)
