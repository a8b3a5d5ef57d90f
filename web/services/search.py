"""Finding people: the cadre's search boxes and the household picker of the laborer form.

A cadre looks a laborer up by what the person can tell them or what is on their card: the name, the
full resident ID number or its last four characters, the phone number (or its last four digits);
a household by its code or its head's name. Matching reads the stored values, always inside the
user's scope (`scope.scoped`), and shows nothing new: the lists show what they always show, through
`disclosure`. The search term itself is kept in the audit trail masked like the list would mask it
(`audit_term`), so that the trail does not become a register of ID numbers.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..models import Household, Laborer, User
from . import scope
from .disclosure import mask_id_number, mask_phone

#: A full resident ID number, and the last four characters of one (the check character may be X).
FULL_ID = re.compile(r"\d{17}[\dX]")
ID_TAIL = re.compile(r"\d{3}[\dX]")
#: A phone number as typed: 7 to 12 digits once spaces, dashes and +86 are dropped.
PHONE = re.compile(r"\d{7,12}")
#: The household picker suggests at most this many households (typing a code or name finds any).
PICKER_ROWS = 500


def number_term(text: str) -> str:
    """The term read as an ID or phone number: no spaces or dashes, upper-case (an ID's x is X), no +86."""
    term = re.sub(r"[\s\-]", "", text or "").upper()
    return term[3:] if term.startswith("+86") else term


def laborer_clause(text: str) -> ColumnElement[bool]:
    """Where-clause on Laborer joined with its Household: the laborers a search term finds."""
    raw = (text or "").strip()
    if not raw:
        return false()
    term = number_term(raw)
    found: list[ColumnElement[bool]] = [Laborer.name.contains(raw), Household.code.contains(raw)]
    if FULL_ID.fullmatch(term):
        found.append(Laborer.id_number == term)
    if ID_TAIL.fullmatch(term):
        found.append(Laborer.id_number.endswith(term))
        if term.isdigit():
            found.append(Laborer.phone.endswith(term))
    if PHONE.fullmatch(term):
        found.append(Laborer.phone == term)
    return or_(*found)


def household_clause(text: str) -> ColumnElement[bool]:
    """Where-clause on Household: the households whose code or head's name holds the term."""
    raw = (text or "").strip()
    if not raw:
        return false()
    return or_(Household.code.contains(raw), Household.head_name.contains(raw))


def laborers(user: User, text: str) -> Select:
    """The user's laborers (joined with their household), those the term finds when one is given."""
    query = scope.scoped(Laborer, user).join(Household, Household.id == Laborer.household_id)
    return query.where(laborer_clause(text)) if (text or "").strip() else query


def households(user: User, text: str) -> Select:
    """The user's households, those the term finds when one is given."""
    query = scope.scoped(Household, user)
    return query.where(household_clause(text)) if (text or "").strip() else query


def audit_term(text: str) -> str:
    """The term as the audit trail keeps it: an ID number or phone masked as a list would show it."""
    term = number_term(text)
    if FULL_ID.fullmatch(term):
        return mask_id_number(term)
    if PHONE.fullmatch(term):
        return mask_phone(term) or ""
    return (text or "").strip()


def picker_options(session: Session, user: User) -> list[tuple[str, str]]:
    """(code, head's name) of the user's households for the laborer form's picker, by code."""
    rows = session.execute(
        select(Household.code, Household.head_name)
        .where(scope.visible(Household, user))
        .order_by(Household.code)
        .limit(PICKER_ROWS)
    ).all()
    return [(row.code, row.head_name) for row in rows]


def find_household(session: Session, user: User, text: str, field: str = "household_code") -> Household:
    """The one household of the user's a picker entry names: its code, else its head's name.

    422 on `field` when none matches, or when several heads share the name (the message lists their
    codes, so that the cadre can pick one).
    """
    raw = (text or "").strip()
    code = raw.split()[0] if raw else ""  # a suggestion picked may bring its head's name after the code
    if not raw:
        raise ValidationError.on(field, "choose a household: type its code or the head's name")
    by_code = session.scalar(scope.scoped(Household, user).where(Household.code == code))
    if by_code is not None:
        return by_code
    named = session.scalars(
        scope.scoped(Household, user).where(Household.head_name == raw).order_by(Household.code).limit(6)
    ).all()
    if len(named) == 1:
        return named[0]
    if named:
        codes = ", ".join(h.code for h in named[:5])
        message = _l("several households have this head; type the code of one: %(codes)s", codes=codes)
        raise ValidationError.on(field, str(message))
    raise ValidationError.on(field, "no household of your villages has this code or head's name")
