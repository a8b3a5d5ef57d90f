"""Match cards for the pages: each match with its target's facts, its lines in the page's language and
its score in words (`services.offer_text` gathers the facts; `labels.score_words` names the score)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_login import current_user

from matcher.rank import Match

from ..extensions import db
from ..labels import lang, score_words
from ..services import offer_text, ranking
from ..services.offer_text import CardFacts


@dataclass(frozen=True)
class Card:
    """What `match_card` in _macros.html draws."""

    match: dict  # ranking.match_json
    facts: CardFacts | None
    words: dict[str, str]
    fit: dict[str, str] | None


def match_cards(matches: list[Match], home: tuple[float, float] | None = None) -> list[Card]:
    """Cards for matches shown to the current user, in order (one query per kind of target)."""
    language = lang()
    facts = offer_text.card_facts(
        db.session(), current_user, [(m.kind, m.target_id, m.point) for m in matches], home=home
    )
    cards = []
    for m in matches:
        found = facts.get((m.kind, m.target_id))
        cards.append(
            Card(
                ranking.match_json(m, language),
                found,
                offer_text.card_words(found, m.distance_km, language) if found else {},
                score_words(m.score) if m.eligible else None,
            )
        )
    return cards
