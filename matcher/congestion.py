"""Congestion caps: how many live offers a posting may carry, and how ranking spreads laborers over postings.

Why: when every cadre ranks alone, every cadre sees the same best posting first, and its employer is
flooded while a near-equal posting next door hears from nobody (les emplois shows the least-solicited
employers first for this reason). So a posting carries at most ``referral_factor`` × its *open slots*
live offers, and interactive ranking puts postings at that cap below open ones and, among matches
whose scores differ by less than ``congestion_tolerance``, the less-solicited posting first.

What the words mean (the web layer counts them, `web.services.caps`):
*live offers* are a posting's solicitations not yet answered: referrals (``proposed`` placements,
which hold no slot) and unanswered offers (``offered``, which hold one). *Open slots* are the slots
nobody has said yes to yet: capacity less the accepted and working placements. An unanswered offer
may still be declined, so it leaves its slot open for the cap while it holds it for capacity; this is
what lets a posting with 2 open slots carry up to 6 referrals and offers, and no more.

Everything here takes numpy columns or single numbers alike, so ranking (columns) and a single
offer's check (numbers) use the very same arithmetic.
"""

from __future__ import annotations

import numpy as np

from matcher.arrays import Values


def cap_of(open_slots: Values | int, referral_factor: float) -> Values:
    """The most live offers a posting may carry: ``referral_factor`` × its open slots, rounded down (never < 0)."""
    return np.floor(np.maximum(open_slots, 0) * referral_factor + 1e-9).astype(np.int64)


def at_cap(live_offers: Values | int, cap: Values | int) -> Values:
    """True where a posting carries as many live offers as its cap allows (one more would be refused)."""
    return np.greater_equal(live_offers, cap)


def solicited_share(live_offers: Values, cap: Values) -> Values:
    """How much of its cap a posting has used, in [0, 1] (1 for a posting whose cap is 0)."""
    cap_f = np.asarray(cap, float)
    return np.where(cap_f > 0, np.minimum(np.asarray(live_offers, float) / np.maximum(cap_f, 1.0), 1.0), 1.0)


def spread_score(score: Values, live_offers: Values, cap: Values, tolerance: float) -> Values:
    """The key ranking orders by within open postings: the score less ``tolerance`` × the share of the cap used.

    Two matches whose scores differ by less than the tolerance come out in the order of how solicited
    their postings are; a difference larger than the tolerance is never overturned.
    """
    return score - tolerance * solicited_share(live_offers, cap)
