"""What a user may see and change (DESIGN §7): one where-clause per model per role.

The API and the HTML pages both build their queries from `scoped()` so that a record outside the
user's scope is simply not found: the answer never hints that it exists.

- cadre: households and laborers of their villages (read and write); employers, openings, batches
  and welfare posts of the counties their villages lie in (read only).
- employer: its own employer record, openings and batches (read and write); no people, no posts.
- office: everything whose region code starts with its own region code (read and write).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Select, exists, false, or_, select, true
from sqlalchemy.orm import Session

from ..errors import NotFoundError, PermissionDeniedError
from ..models import (
    Employer,
    Household,
    Laborer,
    Opening,
    PickupPoint,
    Role,
    TransportBatch,
    User,
    WelfarePost,
)
from .stats import in_region

CADRE, EMPLOYER, OFFICE = Role.CADRE, Role.EMPLOYER, Role.OFFICE

#: Roles that may read each model at all (within their scope); the others get a 403.
READ_ROLES: dict[type, frozenset[Role]] = {
    Household: frozenset({CADRE, OFFICE}),
    Laborer: frozenset({CADRE, OFFICE}),
    Employer: frozenset({CADRE, EMPLOYER, OFFICE}),
    Opening: frozenset({CADRE, EMPLOYER, OFFICE}),
    TransportBatch: frozenset({CADRE, EMPLOYER, OFFICE}),
    WelfarePost: frozenset({CADRE, OFFICE}),
}

#: Roles that may create records of each model (within their scope).
CREATE_ROLES: dict[type, frozenset[Role]] = {
    Household: frozenset({CADRE, OFFICE}),
    Laborer: frozenset({CADRE, OFFICE}),
    Employer: frozenset({OFFICE}),
    Opening: frozenset({EMPLOYER, OFFICE}),
    TransportBatch: frozenset({EMPLOYER, OFFICE}),
    WelfarePost: frozenset({OFFICE}),
}

#: Roles that may change records of each model they can see; an employer keeps its own record.
UPDATE_ROLES: dict[type, frozenset[Role]] = {
    **CREATE_ROLES,
    Employer: frozenset({EMPLOYER, OFFICE}),
}


def county_codes(user: User) -> list[str]:
    """The counties (6-digit codes) a cadre's villages lie in."""
    return sorted({code[:6] for code in user.village_codes})


def _prefixed(column: Any, prefixes: list[str]) -> ColumnElement[bool]:
    """column starts with one of prefixes: a range on the code each, so that an index on column serves it."""
    if not prefixes:
        return false()
    if "" in prefixes:
        return true()
    return or_(*(in_region(column, prefix) for prefix in prefixes))


def _people_place(model: type, user: User) -> ColumnElement[bool]:
    """Where-clause for households and laborers: the village of the household."""
    village = Household.village_code
    clause = (
        village.in_(user.village_codes)
        if user.role is CADRE
        else _prefixed(village, [user.region_code or ""])
    )
    if model is Laborer:
        # A correlated EXISTS on the household's key: one index probe per laborer row, whether the
        # query fetches one laborer or lists many (an IN over the region's households would build
        # the whole set first). Correlated on Laborer alone: the outer query may join Household.
        return exists().where(Household.id == Laborer.household_id, clause).correlate(Laborer)
    return clause


def sees_villages(user: User, village_codes: np.ndarray) -> np.ndarray:
    """Whether the user may see people of each village (12-digit codes as integers): `visible` over columns."""
    if user.role is CADRE:
        return np.isin(village_codes, np.array([int(code) for code in user.village_codes], np.int64))
    if user.role is not OFFICE:
        return np.zeros(len(village_codes), bool)
    prefix = user.region_code or ""
    if not prefix:
        return np.ones(len(village_codes), bool)
    scale = 10 ** (12 - len(prefix))
    return village_codes // scale == int(prefix)


def _region_prefixes(user: User) -> list[str]:
    """The region prefixes a cadre or an office reads postings in."""
    return county_codes(user) if user.role is CADRE else [user.region_code or ""]


def visible(model: type, user: User) -> ColumnElement[bool]:
    """The where-clause selecting the rows of `model` the user may see."""
    if user.role not in READ_ROLES[model]:
        return false()
    if model in (Household, Laborer):
        return _people_place(model, user)
    if user.role is EMPLOYER:
        if model is Employer:
            return Employer.id == user.employer_id
        return model.employer_id == user.employer_id
    return _prefixed(model.region_code, _region_prefixes(user))


def sees_posting(user: User, model: type, region_code: str, employer_id: int | None) -> bool:
    """`visible` for one opening, batch or welfare post known by its region and employer, without a query
    (for the postings a cached ranker holds; kept equal to `visible` by tests)."""
    if user.role not in READ_ROLES[model]:
        return False
    if user.role is EMPLOYER:
        return employer_id == user.employer_id
    return any(region_code.startswith(prefix) for prefix in _region_prefixes(user))


def check_role(model: type, user: User, roles: dict[type, frozenset[Role]] = READ_ROLES) -> None:
    """403 unless the user's role may do this to `model` at all."""
    if user.role not in roles[model]:
        raise PermissionDeniedError("your role may not do this")


def scoped(model: type, user: User) -> Select:
    """select(model) restricted to what the user may see; 403 if the role may see none of it."""
    check_role(model, user)
    return select(model).where(visible(model, user))


def get_visible(session: Session, model: type, record_id: int, user: User) -> Any:
    """The record if the user may see it; 404 (not found, or not theirs) otherwise."""
    check_role(model, user)
    row = session.scalar(select(model).where(model.id == record_id, visible(model, user)))
    if row is None:
        raise NotFoundError(f"{model.__tablename__} {record_id} does not exist")
    return row


def covers_village(user: User, village_code: str) -> bool:
    """May the user register people in this village?"""
    if user.role is CADRE:
        return village_code in user.village_codes
    return user.role is OFFICE and village_code.startswith(user.region_code or "")


def covers_region(user: User, region_code: str) -> bool:
    """May the user place a posting (employer, opening, batch, welfare post) in this region?"""
    if user.role is OFFICE:
        return region_code.startswith(user.region_code or "")
    # Employers post wherever their site or their coach is; cadres post nothing.
    return user.role is EMPLOYER


def reveals_identity(user: User, laborer: Laborer) -> bool:
    """Full ID number and phone only for the cadre of the laborer's own village."""
    return user.role is CADRE and laborer.household.village_code in user.village_codes


def region_filter(model: type, prefix: str) -> ColumnElement[bool]:
    """The `region=` filter of lists: the record lies in the region with this code prefix."""
    if model is Household:
        return Household.village_code.startswith(prefix)
    if model is Laborer:
        return Laborer.household_id.in_(
            select(Household.id).where(Household.village_code.startswith(prefix)).correlate(None)
        )
    if model is TransportBatch:
        # A batch belongs to its county, and also to every place one of its coaches stops.
        return or_(
            TransportBatch.region_code.startswith(prefix),
            exists().where(
                PickupPoint.batch_id == TransportBatch.id,
                PickupPoint.region_code.startswith(prefix),
            ),
        )
    return model.region_code.startswith(prefix)
