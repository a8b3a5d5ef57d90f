"""Ranking equals a brute-force ranking over every target (and every laborer for candidate lists)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import scoring
from matcher.arrays import LaborerColumns
from matcher.geo import geodesic_km, haversine_km
from matcher.rank import CandidateRanker, Ranker
from matcher.rules import check
from matcher.scoring import priority, score
from matcher.synthetic import make_instance
from matcher.types import KINDS, Config

from .conftest import HOME, north_of


def nearest(laborer, target):
    return min(float(haversine_km(laborer.lat, laborer.lon, lat, lon)) for lat, lon in target.points)


def small_instance(seed):
    return make_instance(
        25,
        4,
        2,
        4,
        15,
        centers=[HOME],
        random_state=seed,
        spread_km=6.0,
        workshop_slots=3,
        enterprise_slots=5,
        batch_seats=3,
    )


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 12))
def test_for_laborer_equals_brute_force(seed, k):
    inst, config = small_instance(seed), Config()
    ranker = Ranker(inst.targets, config)
    for laborer in inst.laborers[:8]:
        result = ranker.for_laborer(laborer, k=k, ineligible=5)
        good, bad = [], []
        for t in inst.targets:
            d = nearest(laborer, t)
            if not check(laborer, t, d, config):
                good.append((-score(laborer, t, d, config).total, d, KINDS.index(t.kind), t.id))
            elif d <= ranker.radius_km(laborer, t.kind):
                bad.append((d, KINDS.index(t.kind), t.id))
        good.sort()
        bad.sort()
        # The nearest miss of each kind first, then the nearest others; shown nearest first.
        firsts = [next(b for b in bad if b[1] == kind) for kind in sorted({b[1] for b in bad})]
        shown_bad = sorted((firsts + [b for b in bad if b not in firsts])[:5])
        assert [(KINDS.index(m.kind), m.target_id) for m in result.matches] == [(g[2], g[3]) for g in good[:k]]
        assert [m.score for m in result.matches] == pytest.approx([-g[0] for g in good[:k]], abs=1e-12)
        assert [(KINDS.index(m.kind), m.target_id) for m in result.ineligible] == [(b[1], b[2]) for b in shown_bad]
        for m in result.matches:
            assert m.eligible and not m.reasons and m.factors
        for m in result.ineligible:
            assert not m.eligible and m.reasons and not m.factors


def test_match_shows_geodesic_distance_and_explains(make_laborer, make_target):
    laborer = make_laborer()
    opening = make_target()
    far = make_target(id=2, points=((HOME[0] + 0.12, HOME[1]),))
    result = Ranker([opening, far], Config()).for_laborer(laborer)
    [match] = result.matches
    assert match.distance_km == pytest.approx(geodesic_km((laborer.lat, laborer.lon), opening.points[0]))
    assert match.factors[0].en == f"{match.distance_km:.1f} km from home"
    [miss] = result.ineligible
    assert miss.target_id == 2 and [r.code for r in miss.reasons] == ["too_far"]


def test_batch_beyond_pickup_limit_is_a_miss_with_its_reason(make_laborer, make_target):
    """A migrant 65 km from a batch's only pickup point (limit 60) is told why, beside nearer misses."""
    laborer = make_laborer(work_area="migrant")
    far_batch = make_target(kind="batch", id=7, points=((HOME[0] + 65 / 111.2, HOME[1]),))
    just_too_far = [make_target(id=i, points=((HOME[0] + (10.5 + i) / 111.2, HOME[1]),)) for i in range(1, 7)]
    result = Ranker([far_batch, *just_too_far], Config()).for_laborer(laborer, ineligible=5)
    assert result.matches == []
    kinds = [m.kind for m in result.ineligible]
    assert len(kinds) == 5 and kinds[-1] == "batch", kinds  # nearest first; the batch not crowded out
    [miss] = [m for m in result.ineligible if m.kind == "batch"]
    assert [r.code for r in miss.reasons] == ["too_far"]
    assert "65" in miss.reasons[0].zh and miss.point == far_batch.points[0]


def test_kinds_filter(make_laborer, make_target):
    targets = [
        make_target(),
        make_target(kind="batch", id=1),
        make_target(kind="welfare_post", id=1, capacity=1),
    ]
    ranker = Ranker(targets, Config())
    result = ranker.for_laborer(make_laborer(work_area="local"), kinds=["welfare_post"])
    assert [(m.kind, m.target_id) for m in result.matches] == [("welfare_post", 1)]
    assert ranker.target("batch", 1) == targets[1]


def test_batch_distance_is_to_the_nearest_pickup_point(make_laborer, make_target):
    batch = make_target(kind="batch", points=((HOME[0] + 0.5, HOME[1]), (HOME[0] + 0.1, HOME[1])))
    [match] = Ranker([batch], Config()).for_laborer(make_laborer()).matches
    assert match.distance_km == pytest.approx(geodesic_km(HOME, batch.points[1]))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 30), by_priority=st.booleans())
def test_for_target_equals_brute_force(seed, k, by_priority):
    """Priority first then score; or, by_priority=False, score alone (no priority groups)."""
    inst, config = small_instance(seed), Config()
    candidates = CandidateRanker(inst.laborers, config)
    for target in inst.targets[::3]:
        result = candidates.for_target(target, k=k, by_priority=by_priority)
        brute = []
        for laborer in inst.laborers:
            d = nearest(laborer, target)
            if not check(laborer, target, d, config):
                s = score(laborer, target, d, config).total
                first = -priority(laborer, config, target.kind) if by_priority else 0.0
                brute.append((first, -s, d, laborer.order, laborer.id))
        brute.sort()
        assert [m.laborer_id for m in result.matches] == [b[4] for b in brute[:k]]


def test_unknown_kind_is_refused(make_laborer, make_target):
    with pytest.raises(ValueError, match="unknown target kinds"):
        Ranker([make_target()], Config()).for_laborer(make_laborer(), kinds=["factory"])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), data=st.data())
def test_capacity_set_in_place_equals_a_rebuild(seed, data):
    inst, config = small_instance(seed), Config()
    picked = data.draw(st.lists(st.sampled_from(inst.targets), min_size=1, max_size=6, unique_by=lambda t: t.key))
    free = {t.key: data.draw(st.integers(0, 4)) for t in picked}
    ranker = Ranker(inst.targets, config)
    before = ranker.targets
    ranker.set_capacity({**free, ("opening", 10_000_000): 3})  # a target it does not hold is skipped
    rebuilt = Ranker([replace(t, capacity=free.get(t.key, t.capacity)) for t in inst.targets], config)
    assert before.capacity.tolist() == [t.capacity for t in inst.targets]  # the old columns stay whole
    assert ranker.targets.capacity.tolist() == rebuilt.targets.capacity.tolist()
    assert ranker.targets.targets == rebuilt.targets.targets
    for laborer in inst.laborers[:8]:
        assert ranker.for_laborer(laborer, k=10, ineligible=5) == rebuilt.for_laborer(laborer, k=10, ineligible=5)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_for_target_allowed_equals_ranking_the_allowed_laborers_alone(seed):
    inst, config = small_instance(seed), Config()
    allowed = np.array([laborer.id % 3 != 0 for laborer in inst.laborers])
    everyone = CandidateRanker(inst.laborers, config)
    subset = CandidateRanker([p for p, ok in zip(inst.laborers, allowed, strict=True) if ok], config)
    for target in inst.targets[::2]:
        assert everyone.for_target(target, k=8, ineligible=4, allowed=allowed) == subset.for_target(
            target, k=8, ineligible=4
        )


def test_capacity_prices_reorder_matches_and_say_why(make_laborer, make_target):
    laborer = make_laborer()
    near = make_target(id=1, points=(north_of(HOME, 1.0),))
    far = make_target(id=2, points=(north_of(HOME, 5.0),))
    ranker = Ranker([near, far], Config())
    plain = ranker.for_laborer(laborer, ineligible=0).matches
    assert [m.target_id for m in plain] == [1, 2]
    gap = plain[0].score - plain[1].score
    ranker.set_prices({("opening", 1): gap + 0.01, ("opening", 99): 1.0})  # unknown targets are skipped
    priced = ranker.for_laborer(laborer, ineligible=0).matches
    assert [m.target_id for m in priced] == [2, 1]
    crowded = priced[1]
    assert crowded.score == plain[0].score  # the fit shown is unchanged; only the order is net of price
    assert [f.en for f in crowded.factors if f.name == "crowding"] == ["many others fit this post better"]
    assert all(f.name != "crowding" for f in priced[0].factors)
    ranker.set_prices({})
    assert [m.target_id for m in ranker.for_laborer(laborer, ineligible=0).matches] == [1, 2]


def test_a_slot_priced_above_the_laborers_worth_is_held_for_others_and_ranked_after(make_laborer, make_target):
    laborer = make_laborer()
    near = make_target(id=1, points=(north_of(HOME, 1.0),))
    far = make_target(id=2, points=(north_of(HOME, 5.0),))
    config = Config()
    ranker = Ranker([near, far], config)
    plain = ranker.for_laborer(laborer, ineligible=0).matches
    L = LaborerColumns.from_laborers([laborer], ranker.targets.skills, ranker.targets.job_types)
    worth = float(
        plain[0].score
        + scoring.bonus_columns(
            L.poverty[[0]], L.ability[[0]], ranker.targets.kind[[0]], config, L.household_flagged[[0]]
        )[0]
        + (0.0 if laborer.household_has_work else config.household_bonus)
    )
    ranker.set_prices({("opening", 1): worth - 0.001})  # priced, still worth taking: not held
    kept = ranker.for_laborer(laborer, ineligible=0).matches
    assert [(m.target_id, m.held_for_others) for m in kept] == [(2, False), (1, False)]
    ranker.set_prices({("opening", 1): worth + 0.001, ("opening", 2): 0.0})
    held = ranker.for_laborer(laborer, ineligible=0).matches
    assert [(m.target_id, m.held_for_others) for m in held] == [(2, False), (1, True)]
    ranker.set_prices({("opening", 1): worth + 0.001, ("opening", 2): worth + 1.0})  # both held: the smaller loss first
    assert [(m.target_id, m.held_for_others) for m in ranker.for_laborer(laborer, ineligible=0).matches] == [
        (1, True),
        (2, True),
    ]
