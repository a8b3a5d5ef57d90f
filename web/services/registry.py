"""Registering and changing the records people work with: households, laborers, employers,
openings, transport batches (with pickup points) and welfare posts.

Every use case takes the session first and the acting user, checks scope (`services.scope`) and the
rules that need the database (regions exist, ID numbers unique, age ranges after a partial change),
flushes, audits, and never commits: the request or CLI command owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import wraps
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from .. import clock
from ..config import setting
from ..errors import RateLimitedError, ValidationError, label_of, labels_or
from ..models import (
    AuditEvent,
    BatchStatus,
    Employer,
    Household,
    Laborer,
    Opening,
    PickupPoint,
    PositionSource,
    Region,
    RegionLevel,
    TransportBatch,
    User,
    WelfarePost,
)
from ..validation import CHINA_LAT, check_phone, check_position, parse_resident_id, working_age_problem
from . import scope, versions
from .accounts import audit
from .convert import CAPACITY, held_of, kind_of
from .offers import lock_targets
from .savepoint import breaks_unique, savepoint
from .versions import TRANSACTION_INFO

#: Sources a person may give with a position; the others are derived by jiuye.
GIVEN_SOURCES = (PositionSource.GPS, PositionSource.TYPED)

#: Defaults of the limits read from the app's configuration (see web.config).
DEFAULT_LIMITS = {"EXISTENCE_REFUSALS_PER_HOUR": 20, "POSTING_MOVES_PER_DAY": 3}


def _limit(name: str) -> int:
    """A limit from the app's configuration (its default outside an app)."""
    from flask import current_app, has_app_context

    return int(current_app.config.get(name, DEFAULT_LIMITS[name]) if has_app_context() else DEFAULT_LIMITS[name])


def _recent_events(
    session: Session, action: str, since: timedelta, *, user: User | None = None, entity: Any = None
) -> int:
    """How many audit events of this action the user made (or the record had) within `since`."""
    query = select(func.count(AuditEvent.id)).where(
        AuditEvent.action == action, AuditEvent.at > datetime.now(UTC) - since
    )
    if user is not None:
        query = query.where(AuditEvent.user_id == user.id)
    if entity is not None:
        query = query.where(AuditEvent.entity_type == entity.__tablename__, AuditEvent.entity_id == str(entity.id))
    return session.scalar(query) or 0


# ---------------------------------------------------------------------------------------------
# Existence answers: "already registered" tells that a person or household exists somewhere, so it
# names no village, every such answer is audited (and kept, though the request fails), and a user
# gets at most EXISTENCE_REFUSALS_PER_HOUR of them; past that, every registration that would check
# an ID number or a household code is refused until the hour has passed, whether or not it exists.

_REFUSALS = TRANSACTION_INFO + "existence_refusals"


def _refusals_so_far(session: Session, user: User) -> int:
    """The user's "already registered" answers in the last hour (counted once per transaction)."""
    cache = session.info.setdefault(_REFUSALS, {})
    if user.id not in cache:
        cache[user.id] = _recent_events(session, "already_registered", timedelta(hours=1), user=user)
    return cache[user.id]


def check_existence_allowance(session: Session, user: User, field: str) -> None:
    """429 on `field` once the user has had their hour's share of "already registered" answers."""
    if _refusals_so_far(session, user) >= _limit("EXISTENCE_REFUSALS_PER_HOUR"):
        raise RateLimitedError.on(field, "too many “already registered” answers this hour; try again later")


def already_registered(
    session: Session, user: User | None, field: str, remote_addr: str | None = None
) -> ValidationError:
    """The "already registered" refusal of `field`, audited so that it counts even though it fails."""
    if user is not None:
        audit(session, "already_registered", user=user, remote_addr=remote_addr, durable=True, field=field)
        cache = session.info.setdefault(_REFUSALS, {})
        cache[user.id] = cache.get(user.id, 0) + 1
    return ValidationError.on(field, "already registered")


# ---------------------------------------------------------------------------------------------
# Shared rules


def use_case(unique: InstrumentedAttribute | None = None) -> Callable[[Callable], Callable]:
    """Decorator for a create/update: all or nothing, in a savepoint, with autoflush off.

    Autoflush is off because a half-changed row must not reach the database while its checks still
    query it (the final flush is explicit). The savepoint makes a refused use case leave nothing
    behind while the caller goes on (the next row of an import); a duplicate that a concurrent insert
    got in first, which only the database sees, becomes the same 422 on the `unique` field as one
    found by the checks.
    """

    def refusal(error: IntegrityError) -> ValidationError:
        if unique is not None and breaks_unique(error, unique):
            return ValidationError.on(unique.key, "already registered")
        return ValidationError("the record breaks a rule of the database")

    def decorator(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapper(session: Session, *args, **kwargs):
            with savepoint(session, on_integrity=refusal), session.no_autoflush:
                return fn(session, *args, **kwargs)

        return wrapper

    return decorator


def region_or_error(session: Session, code: str, field: str) -> Region:
    """The region with this code; 422 on `field` if it does not exist."""
    region = session.get(Region, code) if code else None
    if region is None:
        raise ValidationError.on(field, "unknown region")
    return region


def fallback_source(region: Region) -> PositionSource:
    """How to label a position borrowed from a region's point.

    A village's point carries its own source (synthetic, typed…). A township's or county's point
    from the gazetteer is labelled by level, "township" or "county_seat", so that the record says
    how coarse it is; a point that was already a fallback keeps its label.
    """
    source = PositionSource(region.position_source)
    if region.level == RegionLevel.VILLAGE or source in (
        PositionSource.TOWNSHIP,
        PositionSource.COUNTY_SEAT,
        PositionSource.SYNTHETIC,
    ):
        return source
    if region.level == RegionLevel.TOWNSHIP:
        return PositionSource.TOWNSHIP
    return PositionSource.COUNTY_SEAT


def _checked_position(lat: float, lon: float) -> None:
    """check_position, with its complaint attached to the coordinate that is wrong."""
    try:
        check_position(lat, lon)
    except ValueError as exc:
        field = "lon" if CHINA_LAT[0] <= lat <= CHINA_LAT[1] else "lat"
        raise ValidationError.on(field, str(exc)) from None


def _apply_position(row: Any, data: Mapping[str, Any], fallback: Any) -> None:
    """Set lat/lon/position_source from the input, else from `fallback` (a region or a record).

    On an update without a new position, a position that was itself borrowed follows the
    record's new place; one from GPS or typed in stays.
    """
    if data.get("lat") is not None and data.get("lon") is not None:
        _checked_position(data["lat"], data["lon"])
        row.lat, row.lon = data["lat"], data["lon"]
        row.position_source = PositionSource(data.get("position_source") or PositionSource.TYPED)
        return
    if data.get("lat") is not None or data.get("lon") is not None:
        missing = "lon" if data.get("lat") is not None else "lat"
        raise ValidationError.on(missing, "give latitude and longitude together")
    if fallback is None:
        return
    if getattr(row, "position_source", None) in GIVEN_SOURCES:
        return
    row.lat, row.lon = fallback.lat, fallback.lon
    if isinstance(fallback, Region):
        row.position_source = fallback_source(fallback)
    else:
        row.position_source = PositionSource(fallback.position_source)


def _check_age_range(row: Any) -> None:
    """min_age ≤ max_age once a partial change is merged into the record."""
    if row.min_age is not None and row.max_age is not None and row.min_age > row.max_age:
        raise ValidationError.on("min_age", "must not be greater than max_age")


#: List columns a record holds (skills, job types), and how long each item may be.
LIST_FIELDS = ("skills", "job_types")
TAG_MAX_CHARS = 40


def _check_lists(data: Mapping[str, Any]) -> None:
    """Lists stay bounded (MAX_LIST_ITEMS items of TAG_MAX_CHARS, MAX_PICKUP_POINTS points), however
    they came: form, API or sheet."""
    limit = setting("MAX_LIST_ITEMS")
    for name in LIST_FIELDS:
        values = data.get(name) or []
        if len(values) > limit:
            raise ValidationError.on(name, str(_l("at most %(n)s items", n=limit)))
        if any(len(str(value)) > TAG_MAX_CHARS for value in values):
            raise ValidationError.on(name, str(_l("each at most %(n)s characters", n=TAG_MAX_CHARS)))
    points = data.get("pickup_points") or []
    if len(points) > setting("MAX_PICKUP_POINTS"):
        raise ValidationError.on("pickup_points", str(_l("at most %(n)s items", n=setting("MAX_PICKUP_POINTS"))))


#: Why slots or seats may not go below what offers and placements hold (shown next to the field).
BELOW_HELD = "fewer than are already held by offers and placements"


def _keep_held(session: Session, row: Any, changes: Mapping[str, Any]) -> None:
    """Refuse lowering a target's slots or seats below what is held (offered, accepted, working).

    The row is locked first, so that an offer being made at the same moment is counted or waits.
    """
    kind = kind_of(row)
    field = CAPACITY[kind]
    if changes.get(field) is None:
        return
    lock_targets(session, [(kind, row.id)])
    held = held_of(session, row)
    if changes[field] < held:
        raise ValidationError(
            _l("%(field)s: %(n)s are held by offers and placements", field=field, n=held), {field: [BELOW_HELD]}
        )


def _set_plain(row: Any, data: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    """Copy the given plain columns onto the row (lists checked first); the names that changed."""
    _check_lists(data)
    changed = []
    for name in names:
        if name in data and getattr(row, name) != data[name]:
            setattr(row, name, data[name])
            changed.append(name)
    return changed


def _record(session: Session, action: str, by: User, row: Any, addr: str | None, **detail) -> None:
    audit(session, action, user=by, entity=row, remote_addr=addr, **detail)


def _saved_new(session: Session, row: Any, by: User, remote_addr: str | None) -> Any:
    """Add a new row, flush it and audit its creation."""
    session.add(row)
    session.flush()
    _record(session, "create", by, row, remote_addr)
    return row


def _saved_changes(session: Session, row: Any, changes: Mapping[str, Any], by: User, remote_addr: str | None) -> Any:
    """Flush a changed row and audit which fields changed."""
    session.flush()
    _record(session, "update", by, row, remote_addr, fields=sorted(changes))
    return row


def _moved(
    session: Session,
    by: User,
    row: Any,
    changes: Mapping[str, Any],
    resolve: Callable[[Session, User, str], Region],
) -> Region | None:
    """The region a change moves a row into (checked by `resolve`), or None when it stays put."""
    code = changes.get("region_code")
    if not code or code == row.region_code:
        return None
    region = resolve(session, by, code)
    row.region_code = region.code
    return region


# ---------------------------------------------------------------------------------------------
# Lists and single records


def list_records(
    session: Session,
    model: type[Any],
    user: User,
    *,
    region: str | None = None,
    filters: Mapping[str, Any] | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Any], int]:
    """One page of the records the user may see, newest last, and how many there are in all."""
    query = scope.scoped(model, user)
    if region:
        query = query.where(scope.region_filter(model, region))
    place = query
    for name, value in (filters or {}).items():
        if value is not None:
            query = query.where(getattr(model, name) == value)
    return page_by_id(session, model, query, place, page=page, per_page=per_page)


def page_by_id(
    session: Session,
    model: type[Any],
    query: Select[Any],
    place: Select[Any],
    *,
    page: int,
    per_page: int,
    newest_first: bool = False,
) -> tuple[list[Any], int]:
    """One page of ``query``'s records of ``model`` in id order, and how many there are in all.

    ``place`` is ``query`` before filters on the records' own columns: the caller's scope and a region.
    A list of at most READ_WHOLE_MAX rows, or in a place holding less than a SPARSE-th of the table, is
    read through the filters' own indexes and then paged: the page's ids from a subquery fenced with
    OFFSET 0, which keeps the planner from walking the id order instead (a county's laborers lie together
    somewhere in a province's million, and PostgreSQL, expecting them spread evenly, walked 840,000 ids
    to find 50), then their rows by ``query`` itself, with its loader options. The rows of a large place,
    whatever else filters them, are met soon on the walk.
    """
    total = versions.count_rows(session, query)
    order = model.id.desc() if newest_first else model.id
    offset = (page - 1) * per_page
    if total <= READ_WHOLE_MAX or (
        versions.count_rows(session, place) * SPARSE < versions.count_rows(session, select(model))
    ):
        fenced = query.with_only_columns(model.id).offset(0).subquery()
        fenced_order = fenced.c.id.desc() if newest_first else fenced.c.id
        ids = session.scalars(select(fenced.c.id).order_by(fenced_order).limit(per_page).offset(offset)).all()
        rows = session.scalars(query.where(model.id.in_(ids)).order_by(order)).all() if ids else []
    else:
        rows = session.scalars(query.order_by(order).limit(per_page).offset(offset)).all()
    return list(rows), total


READ_WHOLE_MAX = 20_000
SPARSE = 4
"""A list of at most READ_WHOLE_MAX rows, or in a place (the caller's scope and a region) holding less
than a SPARSE-th of the table's rows, is read through its filters and then paged (`page_by_id`); any
other walks the id order to its page."""


def get_record(session: Session, model: type, record_id: int, user: User) -> Any:
    """A record the user may see (404 otherwise)."""
    return scope.get_visible(session, model, record_id, user)


def read_laborer(session: Session, laborer_id: int, user: User, remote_addr: str | None = None) -> Laborer:
    """A laborer's full record; reading a person's record is audited."""
    laborer = scope.get_visible(session, Laborer, laborer_id, user)
    _record(session, "read", user, laborer, remote_addr)
    return laborer


def read_household(session: Session, household_id: int, user: User, remote_addr: str | None = None) -> Household:
    """A household's full record (its poverty status and members); the read is audited."""
    household = scope.get_visible(session, Household, household_id, user)
    _record(session, "read", user, household, remote_addr)
    return household


# ---------------------------------------------------------------------------------------------
# Households and laborers

HOUSEHOLD_FIELDS = ("code", "head_name", "poverty_status")


def _household_village(session: Session, user: User, code: str) -> Region:
    village = region_or_error(session, code, "village_code")
    if village.level != RegionLevel.VILLAGE:
        raise ValidationError.on("village_code", "not a village")
    if not scope.covers_village(user, code):
        raise ValidationError.on("village_code", "not one of your villages")
    return village


def _check_household_code(
    session: Session, code: str, by: User, remote_addr: str | None, exclude_id: int | None = None
) -> None:
    check_existence_allowance(session, by, "code")
    query = select(Household.id).where(Household.code == code)
    if exclude_id is not None:
        query = query.where(Household.id != exclude_id)
    if session.scalar(query) is not None:
        raise already_registered(session, by, "code", remote_addr)


@use_case(unique=Household.code)
def create_household(session: Session, data: Mapping[str, Any], by: User, remote_addr: str | None = None) -> Household:
    """Register a household in one of the user's villages."""
    scope.check_role(Household, by, scope.CREATE_ROLES)
    village = _household_village(session, by, data["village_code"])
    _check_household_code(session, data["code"], by, remote_addr)
    row = Household(village_code=village.code)
    _set_plain(row, data, HOUSEHOLD_FIELDS)
    _apply_position(row, data, village)
    session.add(row)
    session.flush()
    _record(session, "create", by, row, remote_addr)
    return row


@use_case(unique=Household.code)
def update_household(
    session: Session,
    household_id: int,
    changes: Mapping[str, Any],
    by: User,
    remote_addr: str | None = None,
) -> Household:
    """Change a household the user may see; a move stays within the user's villages."""
    scope.check_role(Household, by, scope.UPDATE_ROLES)
    row = scope.get_visible(session, Household, household_id, by)
    village = None
    if "code" in changes and changes["code"] != row.code:
        _check_household_code(session, changes["code"], by, remote_addr, exclude_id=row.id)
    changed = _set_plain(row, changes, HOUSEHOLD_FIELDS)
    if changes.get("village_code") and changes["village_code"] != row.village_code:
        village = _household_village(session, by, changes["village_code"])
        row.village_code = village.code
        changed.append("village_code")
    _apply_position(row, changes, village)
    session.flush()
    _record(session, "update", by, row, remote_addr, fields=sorted(changes))
    return row


LABORER_FIELDS = (
    "name",
    "physical_ability",
    "skills",
    "work_area",
    "max_commute_km",
    "job_types",
    "pay_type",
    "needs_flexible_hours",
    "has_disability",
    "status",
    "over_age_confirmed",
)


class _Complaints:
    """Every field's complaint of one use case, collected so that a person sees them all at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def check(self, step: Callable[[], Any]) -> None:
        """Run one check; a ValidationError it raises is kept, not thrown."""
        try:
            step()
        except ValidationError as error:
            self.add(error)

    def add(self, error: ValidationError) -> None:
        for name, messages in error.fields.items():
            self.fields.setdefault(name, []).extend(str(m) for m in messages)

    def raise_any(self) -> None:
        if self.fields:
            raise ValidationError.on_fields(self.fields)


def laborer_complaints(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """What is wrong with a laborer's own fields, every field at once, before the database is asked.

    The ID number (format, check digit, address code, working age), the phone, the lists and the
    position; the rules that need the database (household, uniqueness) come after, in create/update.
    """
    complaints = _Complaints()
    complaints.check(lambda: _check_person(data))
    complaints.check(lambda: _set_phone(Laborer(), data))
    complaints.check(lambda: _check_lists(data))
    complaints.check(lambda: _apply_position(Laborer(), data, None))
    return complaints.fields


def _check_person(data: Mapping[str, Any]) -> None:
    """The ID number says who it is, and that person is of working age (or confirmed as able)."""
    try:
        resident = parse_resident_id(data.get("id_number") or "")
    except ValueError as exc:
        raise ValidationError.on("id_number", str(exc)) from None
    problem = working_age_problem(resident.birth_on, bool(data.get("over_age_confirmed")))
    if problem is not None:
        raise ValidationError.on(*problem)


def _set_identity(session: Session, row: Laborer, data: Mapping[str, Any], by: User, remote_addr: str | None) -> None:
    """ID number, with birth date and sex derived from it; a given birth date or sex must agree."""
    try:
        resident = parse_resident_id(data["id_number"])
    except ValueError as exc:
        raise ValidationError.on("id_number", str(exc)) from None
    if data.get("birth_on") is not None and data["birth_on"] != resident.birth_on:
        raise ValidationError.on("id_number", "does not match the birth date given")
    if data.get("sex") is not None and data["sex"] != resident.sex:
        raise ValidationError.on("id_number", "does not match the sex given")
    if resident.number == row.id_number:
        return  # unchanged: no question of existence is asked
    check_existence_allowance(session, by, "id_number")
    query = select(Laborer.id).where(Laborer.id_number == resident.number)
    if row.id is not None:
        query = query.where(Laborer.id != row.id)
    if session.scalar(query) is not None:
        raise already_registered(session, by, "id_number", remote_addr)
    row.id_number, row.birth_on, row.sex = resident.number, resident.birth_on, resident.sex


def _household_for_laborer(session: Session, user: User, household_id: int) -> Household:
    household = session.scalar(select(Household).where(Household.id == household_id, scope.visible(Household, user)))
    if household is None:
        # Same answer for "no such household" and "not yours": no hint that it exists.
        raise ValidationError.on("household_id", "unknown household")
    return household


def _set_phone(row: Any, data: Mapping[str, Any]) -> None:
    if "phone" not in data:
        return
    if data["phone"] in (None, ""):
        row.phone = None
        return
    try:
        row.phone = check_phone(data["phone"])
    except ValueError as exc:
        raise ValidationError.on("phone", str(exc)) from None


@use_case(unique=Laborer.id_number)
def create_laborer(session: Session, data: Mapping[str, Any], by: User, remote_addr: str | None = None) -> Laborer:
    """Register a laborer of a household the user looks after."""
    scope.check_role(Laborer, by, scope.CREATE_ROLES)
    complaints = _Complaints()
    complaints.fields.update(laborer_complaints(data))
    household = None
    try:
        household = _household_for_laborer(session, by, data["household_id"])
    except ValidationError as error:
        complaints.add(error)
    complaints.raise_any()  # every field's complaint at once
    row = Laborer(household=household)
    _set_identity(session, row, data, by, remote_addr)
    _set_plain(row, data, LABORER_FIELDS)
    _set_phone(row, data)
    _apply_position(row, data, household)
    session.add(row)
    session.flush()
    _record(session, "create", by, row, remote_addr)
    return row


@use_case(unique=Laborer.id_number)
def update_laborer(
    session: Session,
    laborer_id: int,
    changes: Mapping[str, Any],
    by: User,
    remote_addr: str | None = None,
) -> Laborer:
    """Change a laborer the user may see; a new ID number re-derives birth date and sex."""
    scope.check_role(Laborer, by, scope.UPDATE_ROLES)
    row = scope.get_visible(session, Laborer, laborer_id, by)
    if {"id_number", "over_age_confirmed", "phone", *LIST_FIELDS, "lat", "lon"} & set(changes):
        merged = {"id_number": row.id_number, "over_age_confirmed": row.over_age_confirmed, **changes}
        complaints = _Complaints()
        complaints.fields.update(laborer_complaints(merged))
        complaints.raise_any()
    household = None
    if changes.get("household_id") and changes["household_id"] != row.household_id:
        household = _household_for_laborer(session, by, changes["household_id"])
        row.household = household
    if "id_number" in changes:
        _set_identity(session, row, changes, by, remote_addr)
    elif changes.get("birth_on") is not None or changes.get("sex") is not None:
        _set_identity(session, row, {**changes, "id_number": row.id_number}, by, remote_addr)
    _set_plain(row, changes, LABORER_FIELDS)
    _set_phone(row, changes)
    _apply_position(row, changes, household)
    session.flush()
    _record(session, "update", by, row, remote_addr, fields=sorted(changes))
    return row


# ---------------------------------------------------------------------------------------------
# Employers

EMPLOYER_FIELDS = ("name", "kind", "contact_name", "is_marked_resumed")


def _posting_region(session: Session, user: User, code: str, field: str = "region_code") -> Region:
    region = region_or_error(session, code, field)
    if not scope.covers_region(user, code):
        raise ValidationError.on(field, "outside your region")
    return region


@use_case()
def create_employer(session: Session, data: Mapping[str, Any], by: User, remote_addr: str | None = None) -> Employer:
    """An office registers an employer of its region."""
    scope.check_role(Employer, by, scope.CREATE_ROLES)
    region = _posting_region(session, by, data["region_code"])
    row = Employer(region_code=region.code)
    _set_plain(row, data, EMPLOYER_FIELDS)
    _set_phone(row, data)
    _apply_position(row, data, region)
    return _saved_new(session, row, by, remote_addr)


@use_case()
def update_employer(
    session: Session,
    employer_id: int,
    changes: Mapping[str, Any],
    by: User,
    remote_addr: str | None = None,
) -> Employer:
    """An office changes an employer of its region; an employer keeps its own record up to date."""
    scope.check_role(Employer, by, scope.UPDATE_ROLES)
    row = scope.get_visible(session, Employer, employer_id, by)
    if "is_marked_resumed" in changes:
        scope.require(by, "mark_resumed")
    region = _moved(session, by, row, changes, _posting_region)
    _set_plain(row, changes, EMPLOYER_FIELDS)
    _set_phone(row, changes)
    _apply_position(row, changes, region)
    return _saved_changes(session, row, changes, by, remote_addr)


# ---------------------------------------------------------------------------------------------
# Openings and transport batches: an employer posts its own, an office those of its region

OPENING_FIELDS = (
    "title",
    "job_type",
    "slots",
    "min_age",
    "max_age",
    "physical_demand",
    "skills",
    "pay_type",
    "pay_cents",
    "is_flexible_hours",
    "start_on",
    "status",
)


def _posting_employer(session: Session, user: User, employer_id: int | None) -> Employer:
    """The employer a posting belongs to: an employer user's own, or one the office may see."""
    if user.role is scope.EMPLOYER:
        if employer_id is not None and employer_id != user.employer_id:
            raise ValidationError.on("employer_id", "unknown employer")
        employer_id = user.employer_id
    if employer_id is None:
        raise ValidationError.on("employer_id", "required")
    employer = session.scalar(select(Employer).where(Employer.id == employer_id, scope.visible(Employer, user)))
    if employer is None:
        raise ValidationError.on("employer_id", "unknown employer")
    return employer


@use_case()
def create_opening(session: Session, data: Mapping[str, Any], by: User, remote_addr: str | None = None) -> Opening:
    """Post an opening; without a position it is at the employer's site."""
    scope.check_role(Opening, by, scope.CREATE_ROLES)
    employer = _posting_employer(session, by, data.get("employer_id"))
    region_code = data.get("region_code") or employer.region_code
    region = _posting_region(session, by, region_code)
    row = Opening(employer=employer, region_code=region.code)
    _set_plain(row, data, OPENING_FIELDS)
    _check_age_range(row)
    _apply_position(row, data, employer if region_code == employer.region_code else region)
    return _saved_new(session, row, by, remote_addr)


def check_position_move(
    session: Session, by: User, row: Any, moved_to: Any, field: str, remote_addr: str | None
) -> None:
    """Audit a posting's move; an employer moves one posting at most POSTING_MOVES_PER_DAY times in
    24 hours (429 on `field`), so that candidates' distances cannot be probed from many positions."""
    limit = _limit("POSTING_MOVES_PER_DAY")
    if by.role is scope.EMPLOYER and _recent_events(session, "position_change", timedelta(days=1), entity=row) >= limit:
        raise RateLimitedError.on(field, "moved too often in the last 24 hours; try again tomorrow")
    _record(session, "position_change", by, row, remote_addr, to=moved_to)


def _moves_opening(row: Opening, changes: Mapping[str, Any]) -> bool:
    lat, lon = changes.get("lat"), changes.get("lon")
    return lat is not None and lon is not None and (lat, lon) != (row.lat, row.lon)


@use_case()
def update_opening(
    session: Session,
    opening_id: int,
    changes: Mapping[str, Any],
    by: User,
    remote_addr: str | None = None,
) -> Opening:
    """Change an opening the user may post for."""
    scope.check_role(Opening, by, scope.UPDATE_ROLES)
    row = scope.get_visible(session, Opening, opening_id, by)
    _keep_held(session, row, changes)
    if _moves_opening(row, changes):
        check_position_move(session, by, row, [changes["lat"], changes["lon"]], "lat", remote_addr)
    region = _moved(session, by, row, changes, _posting_region)
    _set_plain(row, changes, OPENING_FIELDS)
    _check_age_range(row)
    _apply_position(row, changes, region)
    return _saved_changes(session, row, changes, by, remote_addr)


BATCH_FIELDS = (
    "title",
    "destination",
    "job_type",
    "departs_at",
    "seats",
    "min_age",
    "max_age",
    "physical_demand",
    "skills",
    "pay_type",
    "pay_cents",
    "status",
    "destination_band",
)


#: planning → boarding → departed; a batch that has not left can be cancelled.
BATCH_STEPS: dict[BatchStatus, tuple[BatchStatus, ...]] = {
    BatchStatus.PLANNING: (BatchStatus.BOARDING, BatchStatus.CANCELLED),
    BatchStatus.BOARDING: (BatchStatus.DEPARTED, BatchStatus.CANCELLED),
    # A departed batch arrives only through its handover (web.services.transport.record_handover).
    BatchStatus.DEPARTED: (),
    BatchStatus.ARRIVED: (),
    BatchStatus.CANCELLED: (),
}


def _batch_steps_message(status: BatchStatus, allowed: tuple[BatchStatus, ...]) -> LazyString:
    """What a batch in ``status`` may become, in the request's language."""
    now = LazyString(label_of, status.value)
    if not allowed:
        return _l("a %(status)s batch keeps its status", status=now)
    allowed_words = LazyString(labels_or, [s.value for s in allowed])
    return _l("a %(status)s batch can only become %(allowed)s", status=now, allowed=allowed_words)


def _set_departure(row: TransportBatch, data: Mapping[str, Any]) -> None:
    """Departure times are stored in UTC (SQLite would otherwise drop the offset)."""
    if data.get("departs_at") is not None:
        moment = data["departs_at"]
        row.departs_at = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _pickup_points(session: Session, points: list[Mapping[str, Any]]) -> list[PickupPoint]:
    """Pickup points from their input; each without a position stands at its region's point."""
    if not points:
        raise ValidationError.on("pickup_points", "at least one pickup point")
    made = []
    for index, point in enumerate(points):
        field = f"pickup_points.{index}.region_code"
        region = region_or_error(session, point["region_code"], field)
        row = PickupPoint(name=point["name"], region_code=region.code)
        try:
            _apply_position(row, point, region)
        except ValidationError as exc:
            raise ValidationError(
                exc.message, {f"pickup_points.{index}.{k}": v for k, v in exc.fields.items()}
            ) from None
        made.append(row)
    return made


@use_case()
def create_batch(session: Session, data: Mapping[str, Any], by: User, remote_addr: str | None = None) -> TransportBatch:
    """Post a point-to-point transport batch with its pickup points; it belongs to a county."""
    scope.check_role(TransportBatch, by, scope.CREATE_ROLES)
    employer = _posting_employer(session, by, data.get("employer_id"))
    region = _posting_region(session, by, data.get("region_code") or employer.region_code[:6])
    row = TransportBatch(employer=employer, region_code=region.code)
    _set_plain(row, data, BATCH_FIELDS)
    _set_departure(row, data)
    _check_age_range(row)
    row.pickup_points = _pickup_points(session, data.get("pickup_points") or [])
    return _saved_new(session, row, by, remote_addr)


@use_case()
def update_batch(
    session: Session,
    batch_id: int,
    changes: Mapping[str, Any],
    by: User,
    remote_addr: str | None = None,
) -> TransportBatch:
    """Change a batch; `pickup_points`, when given, replaces the whole list; status only moves forward."""
    scope.check_role(TransportBatch, by, scope.UPDATE_ROLES)
    row = scope.get_visible(session, TransportBatch, batch_id, by)
    _keep_held(session, row, changes)
    if "status" in changes and changes["status"] != row.status:
        allowed = BATCH_STEPS[BatchStatus(row.status)]
        wanted = getattr(changes["status"], "value", changes["status"])
        if wanted not in {s.value for s in allowed}:
            raise ValidationError.on("status", _batch_steps_message(BatchStatus(row.status), allowed))
    _moved(session, by, row, changes, _posting_region)
    _set_plain(row, changes, BATCH_FIELDS)
    _set_departure(row, changes)
    _check_age_range(row)
    if "pickup_points" in changes:
        before = sorted((p.lat, p.lon) for p in row.pickup_points)
        points = _pickup_points(session, changes["pickup_points"] or [])
        after = sorted((p.lat, p.lon) for p in points)
        if after != before:
            check_position_move(session, by, row, [list(p) for p in after], "pickup_points", remote_addr)
        row.pickup_points = points
    return _saved_changes(session, row, changes, by, remote_addr)


# ---------------------------------------------------------------------------------------------
# Welfare posts

WELFARE_FIELDS = (
    "post_type",
    "title",
    "slots",
    "min_age",
    "max_age",
    "physical_demand",
    "stipend_cents",
    "term_start_on",
    "term_end_on",
    "status",
)


def _welfare_region(session: Session, user: User, code: str) -> Region:
    region = _posting_region(session, user, code)
    if region.level not in (RegionLevel.VILLAGE, RegionLevel.TOWNSHIP):
        raise ValidationError.on("region_code", "a welfare post belongs to a village or township")
    return region


def _check_term(row: WelfarePost) -> None:
    if row.term_end_on is not None and row.term_end_on < row.term_start_on:
        raise ValidationError.on("term_end_on", "must not be before term_start_on")


@use_case()
def create_welfare_post(
    session: Session, data: Mapping[str, Any], by: User, remote_addr: str | None = None
) -> WelfarePost:
    """An office creates a public welfare post of a village or township of its region."""
    scope.check_role(WelfarePost, by, scope.CREATE_ROLES)
    region = _welfare_region(session, by, data["region_code"])
    row = WelfarePost(region_code=region.code)
    _set_plain(row, data, WELFARE_FIELDS)
    _check_age_range(row)
    _check_term(row)
    _apply_position(row, data, region)
    return _saved_new(session, row, by, remote_addr)


@use_case()
def update_welfare_post(
    session: Session,
    post_id: int,
    changes: Mapping[str, Any],
    by: User,
    remote_addr: str | None = None,
) -> WelfarePost:
    """Change a welfare post of the office's region."""
    scope.check_role(WelfarePost, by, scope.UPDATE_ROLES)
    row = scope.get_visible(session, WelfarePost, post_id, by)
    _keep_held(session, row, changes)
    region = _moved(session, by, row, changes, _welfare_region)
    _set_plain(row, changes, WELFARE_FIELDS)
    _check_age_range(row)
    _check_term(row)
    _apply_position(row, changes, region)
    return _saved_changes(session, row, changes, by, remote_addr)


# ---------------------------------------------------------------------------------------------
# Rows saved under older rules (`jiuye check data`)


def laborer_rule_breaks(session: Session, today: date | None = None) -> Iterator[tuple[int, str, str]]:
    """Every saved laborer that breaks today's registration rules, as (laborer id, field, problem).

    Read only. The rules are the ones a new registration meets (web.validation): an 18-digit ID
    with a valid check digit and an address code in force at some time from the birth year to today,
    the birth date and sex the number says, and the working age (under MIN_LABOR_AGE, or older than
    MAX_LABOR_AGE without the cadre's confirmation). Streams the table, a few columns at a time.
    """
    day = today or clock.today()
    rows = session.execute(
        select(Laborer.id, Laborer.id_number, Laborer.birth_on, Laborer.sex, Laborer.over_age_confirmed)
        .order_by(Laborer.id)
        .execution_options(yield_per=5000)
    )
    for laborer_id, number, birth_on, sex, confirmed in rows:
        try:
            resident = parse_resident_id(number, day)
        except ValueError as exc:
            yield laborer_id, "id_number", str(exc)
        else:
            if resident.birth_on != birth_on:
                yield laborer_id, "birth_on", str(_l("does not match the ID number"))
            if resident.sex != sex:
                yield laborer_id, "sex", str(_l("does not match the ID number"))
        problem = working_age_problem(birth_on, bool(confirmed), day)
        if problem is not None:
            yield laborer_id, *problem
