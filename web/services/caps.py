"""Congestion caps in the web layer: counting a posting's live offers, refusing one too many, capping plans.

Why: `matcher.congestion` says what a cap is; this module is the one place that counts it from the
records and applies it, so that an offer made by hand, a referral, a plan's proposals and the
ranking a cadre reads all obey the same limit. A posting's *live offers* are its referrals
(``proposed`` placements, no slot held) and unanswered offers; its *open slots* are its capacity less
the accepted and working placements (`web.services.convert.solicitation`). A posting may carry at most
``referral_factor`` × open slots live offers. Capacity itself is unchanged: an offer still holds a slot
(HOLDING_STATUSES), so a posting never gets more offers than free slots; what the cap adds is a bound on
referrals, which hold none, and on the referrals and offers together.

Callers lock the target row first (`offers.lock_targets`), so that two offers for one posting are
counted in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from flask_babel import lazy_gettext as _l

from matcher import congestion
from matcher.rank import Match
from matcher.types import Config, Target

from ..errors import ConflictError
from ..models import TargetRow
from .convert import solicitation_of


def cap_of(open_slots: int, config: Config) -> int:
    """The most live offers a posting with these open slots may carry."""
    return int(congestion.cap_of(open_slots, config.referral_factor))


def refuse_beyond_cap(session, row: TargetRow, config: Config, adding: int = 1) -> None:
    """Refuse (409, naming the cap) `adding` more live offers for a locked posting that would pass its cap."""
    live, open_slots = solicitation_of(session, row)
    cap = cap_of(open_slots, config)
    if live + adding > cap:
        message = _l(
            "this posting already carries %(live)s live offers, its cap (%(factor)s per open slot, %(open)s open"
            " slots: at most %(cap)s); wait for answers first",
            live=live,
            factor=f"{config.referral_factor:g}",
            open=max(open_slots, 0),
            cap=cap,
        )
        raise ConflictError(message, {"target": [message]})


def plan_capacities(targets: Sequence[Target], config: Config) -> list[Target]:
    """The targets a plan may fill: each one's free slots, and no more than its cap leaves room for.

    Confirming a plan makes offers, which are live until answered; so a plan proposes at most
    cap − live offers for a posting, whatever its free slots.
    """
    capped = []
    for t in targets:
        open_slots = t.capacity if t.open_slots is None else t.open_slots
        room = max(0, cap_of(open_slots, config) - t.live_offers)
        capped.append(t if room >= t.capacity else replace(t, capacity=room))
    return capped


def congestion_note(match: Match) -> str | None:
    """The sentence a match shows about its posting's live offers (None while it has none)."""
    if match.cap is None or (match.live_offers == 0 and not match.is_at_cap):
        return None
    if match.is_at_cap:
        return str(
            _l(
                "this posting already has as many offers as allowed (%(cap)s): open postings come first",
                cap=match.cap,
            )
        )
    return str(
        _l(
            "%(live)s of at most %(cap)s offers already made for this posting: less-asked postings come first",
            live=match.live_offers,
            cap=match.cap,
        )
    )


def congestion_json(match: Match) -> dict:
    """A match's live offers and cap, as the API shows them."""
    return {
        "live_offers": match.live_offers,
        "cap": match.cap,
        "is_at_cap": match.is_at_cap,
        "text": congestion_note(match),
    }
