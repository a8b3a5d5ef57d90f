"""Haversine, geodesic and the radius index."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.geo import PointIndex, geodesic_km, geodesics_km, haversine_km


def test_haversine_matches_geodesic_within_half_a_percent():
    a, b = (36.47, 110.75), (37.87, 112.55)
    assert float(haversine_km(*a, *b)) == pytest.approx(geodesic_km(a, b), rel=5e-3)


def test_haversine_is_zero_at_the_same_point_and_broadcasts():
    d = haversine_km(36.0, 111.0, np.array([36.0, 36.1]), np.array([111.0, 111.0]))
    assert d[0] == 0.0
    assert d[1] == pytest.approx(11.12, abs=0.01)


def test_empty_index_answers_nothing():
    q, p, d = PointIndex([], []).within_km([36.0], [111.0], 10.0)
    assert len(q) == len(p) == len(d) == 0


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), radius_km=st.floats(1.0, 80.0))
def test_radius_query_equals_brute_force(seed, radius_km):
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(35, 38, 200), rng.uniform(110, 113, 200)
    q_lat, q_lon = rng.uniform(35, 38, 5), rng.uniform(110, 113, 5)
    q, p, d = PointIndex(lat, lon).within_km(q_lat, q_lon, radius_km)
    for i in range(5):
        exact = haversine_km(q_lat[i], q_lon[i], lat, lon)
        clear = set(np.flatnonzero(exact < radius_km * (1 - 1e-9)).tolist())
        found = set(p[q == i].tolist())
        assert clear <= found
        assert all(exact[j] <= radius_km * (1 + 1e-9) for j in found)
    assert np.allclose(d, haversine_km(q_lat[q], q_lon[q], lat[p], lon[p]))


def test_geodesic_is_the_wgs84_distance_of_a_textbook_example():
    # Flinders Peak to Buninyong, the worked example of Vincenty (1975): 54,972.271 m on the ellipsoid.
    flinders = (-(37 + 57 / 60 + 3.72030 / 3600), 144 + 25 / 60 + 29.52440 / 3600)
    buninyong = (-(37 + 39 / 60 + 10.15610 / 3600), 143 + 55 / 60 + 35.38390 / 3600)
    assert geodesic_km(flinders, buninyong) == pytest.approx(54.972271, abs=1e-6)


def test_geodesics_in_one_call_equal_one_at_a_time_and_broadcast():
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(35, 38, 40), rng.uniform(110, 113, 40)
    together = geodesics_km(36.5, 111.2, lat, lon)
    assert together.shape == (40,)
    assert together.tolist() == pytest.approx(
        [geodesic_km((36.5, 111.2), (a, b)) for a, b in zip(lat, lon, strict=True)], abs=1e-9
    )
    assert geodesics_km(36.5, 111.2, [], []).shape == (0,)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), radius_km=st.floats(0.5, 120.0))
def test_one_point_radius_query_equals_brute_force(seed, radius_km):
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(35, 38, 300), rng.uniform(110, 113, 300)
    q_lat, q_lon = float(rng.uniform(35, 38)), float(rng.uniform(110, 113))
    found = set(PointIndex(lat, lon).near_km(q_lat, q_lon, radius_km).tolist())
    exact = haversine_km(q_lat, q_lon, lat, lon)
    assert set(np.flatnonzero(exact < radius_km * (1 - 1e-9)).tolist()) <= found
    assert all(exact[j] <= radius_km * (1 + 1e-9) for j in found)
