"""What a match card and an offer text say: pay, hours, start, where and when a batch leaves, a post's
stipend and term, and whom to call; and the plain message a cadre reads out or sends by SMS/WeChat.

`card_facts` gathers the facts of the targets behind a list of matches (or placements) in one query
per kind; `offer_text` turns one placement into a message in a chosen language ('zh' or 'en', every
word from the catalog under `force_locale`). The employer's contact is shown only to the roles
`services.disclosure.sees_employer_contact` names. A batch's distance is to its pickup point — the
card says which — never to the employer, who is at the destination.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from babel.dates import format_date, format_time
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher.geo import geodesic_km
from matcher.types import job_label

from .. import clock
from ..models import CHANNEL_MODELS, Opening, Placement, TransportBatch, User
from . import disclosure

LANGUAGES = ("zh", "en")


@dataclass(frozen=True, slots=True)
class CardFacts:
    """The facts of one opening, batch or welfare post a card shows (None: not given, or not shown)."""

    kind: str
    target_id: int
    title: str
    job_type: str
    employer: str | None
    contact_name: str | None
    contact_phone: str | None
    pay_type: str | None
    pay_cents: int | None
    is_flexible: bool
    start_on: date | None
    destination: str | None = None
    departs_at: datetime | None = None  # local time
    pickup_name: str | None = None
    term_end_on: date | None = None


def _pickup_name(batch: TransportBatch, point: tuple[float, float] | None, home: tuple[float, float] | None):
    """The pickup point a distance was measured to (the match's point, else the nearest to home)."""
    points = batch.pickup_points
    if not points:
        return None
    if point is not None:
        for p in points:
            if (p.lat, p.lon) == tuple(point):
                return p.name
    if home is None:
        return points[0].name
    return min(points, key=lambda p: geodesic_km(home, (p.lat, p.lon))).name


def _facts(kind: str, row, user: User, point, home) -> CardFacts:
    contact = disclosure.sees_employer_contact(user)
    if kind == "welfare_post":
        return CardFacts(
            kind,
            row.id,
            row.title,
            row.post_type.value,
            None,
            None,
            None,
            "monthly",
            row.stipend_cents,
            True,
            row.term_start_on,
            term_end_on=row.term_end_on,
        )
    employer = row.employer
    common = dict(
        kind=kind,
        target_id=row.id,
        title=row.title,
        job_type=row.job_type,
        employer=employer.name,
        contact_name=employer.contact_name if contact else None,
        contact_phone=employer.phone if contact else None,
        pay_type=row.pay_type.value,
        pay_cents=row.pay_cents,
    )
    if kind == "opening":
        return CardFacts(**common, is_flexible=row.is_flexible_hours, start_on=row.start_on)
    departs = clock.local(row.departs_at)
    return CardFacts(
        **common,
        is_flexible=False,
        start_on=departs.date(),
        destination=row.destination,
        departs_at=departs,
        pickup_name=_pickup_name(row, point, home),
    )


def card_facts(
    session: Session,
    user: User,
    wanted: Iterable[tuple[str, int, tuple[float, float] | None]],
    home: tuple[float, float] | None = None,
) -> dict[tuple[str, int], CardFacts]:
    """Facts of the targets (kind, id, the point measured to) the user was shown, by (kind, id)."""
    wanted = list(wanted)
    rows: dict[tuple[str, int], object] = {}
    model: Any
    for kind, model in CHANNEL_MODELS.items():
        ids = {target_id for k, target_id, _point in wanted if k == kind}
        if not ids:
            continue
        query = select(model).where(model.id.in_(ids))
        if model is TransportBatch:
            query = query.options(selectinload(TransportBatch.employer), selectinload(TransportBatch.pickup_points))
        elif model is Opening:
            query = query.options(selectinload(Opening.employer))
        rows.update(((kind, row.id), row) for row in session.scalars(query))
    return {
        (kind, target_id): _facts(kind, rows[(kind, target_id)], user, point, home)
        for kind, target_id, point in wanted
        if (kind, target_id) in rows
    }


# -- words ------------------------------------------------------------------------------------------


def yuan_text(cents: int) -> str:
    """Money as said aloud: whole yuan without decimals (60), else two decimals (60.50)."""
    return f"{cents // 100:,}" if cents % 100 == 0 else f"{cents / 100:,.2f}"


def pay_text(facts: CardFacts) -> str:
    """Pay with its amount and type, in the current locale: 计件约 60 元/天, 每月 800 元."""
    if facts.pay_cents is None:
        return _("pay to be agreed")
    amount = yuan_text(facts.pay_cents)
    if facts.kind == "welfare_post":
        return _("stipend %(yuan)s yuan a month", yuan=amount)
    return {
        "piece": _("piece rate, about %(yuan)s yuan a day", yuan=amount),
        "hourly": _("%(yuan)s yuan an hour", yuan=amount),
        "daily": _("%(yuan)s yuan a day", yuan=amount),
        "monthly": _("%(yuan)s yuan a month", yuan=amount),
    }.get(facts.pay_type or "", _("%(yuan)s yuan", yuan=amount))


def hours_text(facts: CardFacts) -> str:
    """Flexible or fixed hours, in the current locale."""
    return _("flexible hours") if facts.is_flexible else _("fixed hours")


def language_of(locale: str | None) -> str:
    """'zh' or 'en' from a locale or a `lang` parameter (anything else is Chinese, the default)."""
    return "en" if str(locale or "").lower().startswith("en") else "zh"


def date_text(day: date | None, language: str) -> str:
    """A date as people say it: 2026年12月8日 / December 8, 2026."""
    return "" if day is None else format_date(day, "long", locale="zh_CN" if language == "zh" else "en")


def time_text(moment: datetime | None) -> str:
    """A local time of day, 24-hour: 08:30."""
    return "" if moment is None else format_time(moment, "HH:mm", locale="en")


def km(distance_km: float | None) -> str:
    """A distance to 0.1 km."""
    return "" if distance_km is None else f"{distance_km:.1f}"


def where_text(facts: CardFacts, distance_km: float | None, language: str) -> str:
    """Where the work is: near home, or for a batch its pickup point, departure and destination."""
    if facts.kind == "batch":
        return _(
            "leaves %(date)s at %(time)s from %(pickup)s (%(km)s km from home) for %(city)s",
            date=date_text(facts.start_on, language),
            time=time_text(facts.departs_at),
            pickup=facts.pickup_name or "—",
            km=km(distance_km),
            city=facts.destination or "—",
        )
    return _("%(km)s km from home", km=km(distance_km))


def _text(name: str, facts: CardFacts, distance_km: float | None, language: str) -> str:
    job = job_label(facts.job_type, language)
    parts = []
    if facts.kind == "welfare_post":
        head = _("%(name)s: welfare post %(title)s (%(job)s)", name=name, title=facts.title, job=job)
        parts.append(where_text(facts, distance_km, language))
        parts.append(pay_text(facts))
        if facts.term_end_on:
            parts.append(
                _(
                    "term %(start)s to %(end)s",
                    start=date_text(facts.start_on, language),
                    end=date_text(facts.term_end_on, language),
                )
            )
        else:
            parts.append(_("term from %(start)s", start=date_text(facts.start_on, language)))
    else:
        head = _(
            "%(name)s: %(employer)s is hiring %(job)s workers (%(title)s)",
            name=name,
            employer=facts.employer or "",
            job=job,
            title=facts.title,
        )
        parts.append(where_text(facts, distance_km, language))
        parts.append(pay_text(facts))
        parts.append(hours_text(facts))
        if facts.kind == "opening":
            parts.append(_("starts %(date)s", date=date_text(facts.start_on, language)))
    # Punctuation of the language itself: Chinese full-width commas and stop, no spaces between sentences.
    sep, stop, gap = ("，", "。", "") if language == "zh" else (", ", ".", " ")
    text = head + sep + sep.join(p for p in parts if p) + stop
    if facts.contact_name or facts.contact_phone:
        who = " ".join(p for p in (facts.contact_name, facts.contact_phone) if p)
        text += gap + _("Contact: %(who)s", who=who) + stop
    return text


def offer_text(session: Session, user: User, placement: Placement, language: str, *, name: str | None = None) -> str:
    """The message for one placement in 'zh' or 'en', to read out or send (the caller checked its scope)."""
    laborer = placement.laborer
    home = (laborer.lat, laborer.lon)
    kind = placement.channel.value
    facts = card_facts(session, user, [(kind, placement.target_id, None)], home)[(kind, placement.target_id)]
    distance = placement.distance_km
    if kind == "batch" and facts.pickup_name is not None:
        row = placement.batch
        distance = min(geodesic_km(home, (p.lat, p.lon)) for p in row.pickup_points)
    elif distance is None:
        row = placement.opening or placement.welfare_post
        distance = geodesic_km(home, (row.lat, row.lon))
    with force_locale(language):
        return _text(name or laborer.name, facts, distance, language)


def card_words(facts: CardFacts, distance_km: float | None, language: str) -> dict[str, str]:
    """A card's lines in the current locale: pay, hours, start, distance, departure, term, contact."""
    words = {
        "pay": pay_text(facts),
        "hours": hours_text(facts),
        "start": date_text(facts.start_on, language),
        "distance": _("%(km)s km from home", km=km(distance_km)),
        "contact": " ".join(p for p in (facts.contact_name, facts.contact_phone) if p),
    }
    if facts.kind == "batch":
        words["departs"] = f"{date_text(facts.start_on, language)} {time_text(facts.departs_at)}"
    if facts.kind == "welfare_post":
        words["term"] = (
            _(
                "%(start)s to %(end)s",
                start=date_text(facts.start_on, language),
                end=date_text(facts.term_end_on, language),
            )
            if facts.term_end_on
            else _("from %(start)s", start=date_text(facts.start_on, language))
        )
    return words
