"""Congestion caps in ranking: postings at their cap rank last, near-equal matches spread, in place = rebuilt."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import congestion
from matcher.rank import Ranker
from matcher.rules import check
from matcher.scoring import score
from matcher.types import KINDS, Config

from .conftest import HOME
from .test_rank import nearest, small_instance


def _solicit(inst, data):
    """The instance's targets with drawn live offers and open slots (open ≥ free capacity, as in the records)."""
    targets = []
    for t in inst.targets:
        open_slots = t.capacity + data.draw(st.integers(0, 2))
        targets.append(replace(t, live_offers=data.draw(st.integers(0, 3 * open_slots + 1)), open_slots=open_slots))
    return targets


def test_cap_is_the_factor_times_the_open_slots():
    assert congestion.cap_of(np.array([0, 1, 2, -1]), 3.0).tolist() == [0, 3, 6, 0]
    assert int(congestion.cap_of(5, 1.5)) == 7
    assert congestion.at_cap(np.array([5, 6, 7]), np.array([6, 6, 6])).tolist() == [False, True, True]


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(0, 1),
    b=st.floats(0, 1),
    live_a=st.integers(0, 9),
    live_b=st.integers(0, 9),
    # A tolerance below a score's float resolution (about 1e-16) could not reorder anything; none is configured.
    tolerance=st.just(0.0) | st.floats(1e-9, 0.1),
)
def test_spreading_never_overturns_a_difference_beyond_the_tolerance(a, b, live_a, live_b, tolerance):
    ka, kb = (float(congestion.spread_score(s, n, 9, tolerance)) for s, n in ((a, live_a), (b, live_b)))
    if a - b > tolerance:
        assert ka > kb
    if abs(a - b) < 1e-12 and live_a < live_b and tolerance > 0:
        assert ka > kb  # equal scores: the less-solicited first


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), data=st.data())
def test_for_laborer_equals_brute_force_with_caps(seed, data):
    inst, config = small_instance(seed), Config(congestion_tolerance=data.draw(st.sampled_from([0.0, 0.02, 0.2])))
    targets = _solicit(inst, data)
    ranker = Ranker(targets, config)
    for laborer in inst.laborers[:8]:
        result = ranker.for_laborer(laborer, k=10, ineligible=0)
        brute = []
        for t in targets:
            d = nearest(laborer, t)
            if check(laborer, t, d, config):
                continue
            s = score(laborer, t, d, config).total
            cap = int(congestion.cap_of(t.open_slots, config.referral_factor))
            spread = float(congestion.spread_score(s, t.live_offers, cap, config.congestion_tolerance))
            brute.append((t.live_offers >= cap, -spread, -s, d, KINDS.index(t.kind), t.id))
        brute.sort()
        assert [(KINDS.index(m.kind), m.target_id) for m in result.matches] == [(b[4], b[5]) for b in brute[:10]]
        assert [m.is_at_cap for m in result.matches] == [b[0] for b in brute[:10]]
        at_cap = [m.is_at_cap for m in result.matches]
        assert at_cap == sorted(at_cap)  # every open posting before every posting at its cap


def test_a_posting_at_its_cap_drops_below_a_worse_open_one(make_laborer, make_target):
    laborer = make_laborer()
    near = make_target(id=1, capacity=1, open_slots=1, live_offers=3)  # 1 open slot × 3: at its cap
    farther = make_target(id=2, points=((HOME[0] + 0.03, HOME[1]),), capacity=1, open_slots=1)
    config = Config()
    plain = Ranker([replace(near, live_offers=0), farther], config).for_laborer(laborer)
    assert [m.target_id for m in plain.matches] == [1, 2]  # without offers out, the nearer one first
    capped = Ranker([near, farther], config).for_laborer(laborer)
    assert [m.target_id for m in capped.matches] == [2, 1]
    assert [(m.live_offers, m.cap, m.is_at_cap) for m in capped.matches] == [(0, 3, False), (3, 3, True)]
    assert capped.matches[1].score > capped.matches[0].score  # the score itself is unchanged


def test_near_equal_matches_put_the_less_solicited_posting_first(make_laborer, make_target):
    laborer = make_laborer()
    a = make_target(id=1, points=((HOME[0] + 0.01, HOME[1]),), capacity=2, open_slots=2, live_offers=5)  # 5 of 6
    b = make_target(id=2, points=((HOME[0] + 0.0105, HOME[1]),), capacity=2, open_slots=2)  # 55 m farther
    ranked = Ranker([a, b], Config()).for_laborer(laborer)
    assert [m.target_id for m in ranked.matches] == [2, 1]
    assert ranked.matches[1].score > ranked.matches[0].score
    strict = Ranker([a, b], Config(congestion_tolerance=0.0)).for_laborer(laborer)
    assert [m.target_id for m in strict.matches] == [1, 2]  # no tolerance: the score alone


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), data=st.data())
def test_solicitation_set_in_place_equals_a_rebuild(seed, data):
    inst, config = small_instance(seed), Config()
    targets = _solicit(inst, data)
    picked = data.draw(st.lists(st.sampled_from(targets), min_size=1, max_size=6, unique_by=lambda t: t.key))
    counts = {t.key: (data.draw(st.integers(0, 6)), data.draw(st.integers(0, 3))) for t in picked}
    free = {t.key: data.draw(st.integers(0, 2)) for t in picked}
    ranker = Ranker(targets, config)
    before = ranker.solicited
    ranker.set_capacity(free)
    ranker.set_solicitation({**counts, ("opening", 10_000_000): (1, 1)})  # an unknown target is skipped
    rebuilt = Ranker(
        [
            replace(t, capacity=free.get(t.key, t.capacity), live_offers=live, open_slots=n)
            for t in targets
            for live, n in [counts.get(t.key, (t.live_offers, t.open_slots))]
        ],
        config,
    )
    assert before[0].tolist() == [t.live_offers for t in targets]  # the old columns stay whole
    assert [c.tolist() for c in ranker.solicited] == [c.tolist() for c in rebuilt.solicited]
    assert ranker.targets.targets == rebuilt.targets.targets
    for laborer in inst.laborers[:8]:
        assert ranker.for_laborer(laborer, k=10, ineligible=5) == rebuilt.for_laborer(laborer, k=10, ineligible=5)
