"""Verifications on record (issue 13, part 7): who checked a fact a measure rests on, when, how, until when.

The facts are a household's poverty status, a laborer's ability and a welfare-post holder's
eligibility (`VerificationSubject`). A verification stores the value found (the status or ability on
record at the time, or eligible / not eligible), the method (visit, document, registry), the day and
the day it stops holding (`VERIFICATION_VALID_MONTHS` later, six by default, as les emplois keeps an
eligibility diagnosis). The latest verification of a fact is its standing (`latest`); once past
`valid_until` it is listed for re-check (`expired`), and the daily tick tells the cadre and the office
once per verification (`notify_expired`). Recording one is audited like any change to a person's record.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from .. import clock
from ..config import setting
from ..errors import ValidationError
from ..models import (
    ELIGIBILITY_VALUES,
    LABORER_SUBJECTS,
    Household,
    Laborer,
    MessageKind,
    User,
    Verification,
    VerificationMethod,
    VerificationSubject,
)
from ..validation import parse_day
from . import inbox, scope
from .accounts import audit


def valid_until(verified_on: date, months: int | None = None) -> date:
    """The day a verification made on `verified_on` stops holding (the same day `months` later, clamped)."""
    months = int(setting("VERIFICATION_VALID_MONTHS")) if months is None else months
    index = verified_on.month - 1 + months
    year, month = verified_on.year + index // 12, index % 12 + 1
    return date(year, month, min(verified_on.day, calendar.monthrange(year, month)[1]))


def _parse(data: dict[str, Any], errors: dict[str, list[Any]]) -> tuple[Any, Any, Any]:
    try:
        subject = VerificationSubject(data.get("subject") or "")
    except ValueError:
        subject = None
        errors["subject"] = [_l("choose what was verified")]
    try:
        method = VerificationMethod(data.get("method") or "")
    except ValueError:
        method = None
        errors["method"] = [_l("choose how it was verified")]
    verified_on = data.get("verified_on") or clock.today()
    if isinstance(verified_on, str):
        try:
            verified_on = parse_day(verified_on)
        except ValueError as exc:
            errors["verified_on"] = [exc.args[0]]
    if isinstance(verified_on, date) and verified_on > clock.today():
        errors["verified_on"] = [_l("a verification cannot be in the future")]
    return subject, method, verified_on


def record(session: Session, user: User, data: dict[str, Any], *, remote_addr: str | None = None) -> Verification:
    """Record a verification of a household's poverty status, or a member's ability or post eligibility."""
    scope.check_role(Verification, user, scope.CREATE_ROLES)
    errors: dict[str, list[Any]] = {}
    subject, method, verified_on = _parse(data, errors)
    laborer: Laborer | None = None
    if subject in LABORER_SUBJECTS:
        if not data.get("laborer_id"):
            errors["laborer_id"] = [_l("choose the member who was verified")]
        else:
            laborer = scope.get_visible(session, Laborer, int(data["laborer_id"]), user)
    household_id: Any = laborer.household_id if laborer is not None else data.get("household_id")
    if not household_id and "laborer_id" not in errors:
        errors["household_id"] = [_l("choose the household")]
    value = data.get("value") or "eligible"
    if subject is VerificationSubject.POST_ELIGIBILITY and value not in ELIGIBILITY_VALUES:
        errors["value"] = [_l("eligible or not eligible")]
    if errors:
        raise ValidationError(_l("the verification was not recorded"), errors)
    household = scope.get_visible(session, Household, int(household_id), user)
    if laborer is not None and data.get("household_id") and int(data["household_id"]) != laborer.household_id:
        raise ValidationError.on("laborer_id", _l("this person is not a member of the household"))
    if subject is VerificationSubject.POVERTY_STATUS:
        value = household.poverty_status.value
    elif subject is VerificationSubject.ABILITY:
        value = laborer.physical_ability.value  # type: ignore[union-attr]
    row = Verification(
        subject=subject,
        household_id=household.id,
        laborer_id=laborer.id if laborer is not None else None,
        value=value,
        method=method,
        verified_on=verified_on,
        valid_until=valid_until(verified_on),
        verified_by_id=user.id,
        note=(data.get("note") or "").strip() or None,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        "verification_recorded",
        user=user,
        entity=row,
        remote_addr=remote_addr,
        household_id=household.id,
        laborer_id=row.laborer_id,
        subject=subject.value,
    )
    return row


def _is_latest() -> ColumnElement[bool]:
    """Where-clause on Verification: no later verification of the same fact (subject, household, member)."""
    later = aliased(Verification)
    return ~exists().where(
        later.subject == Verification.subject,
        later.household_id == Verification.household_id,
        func.coalesce(later.laborer_id, 0) == func.coalesce(Verification.laborer_id, 0),
        later.id > Verification.id,
    )


def latest(session: Session, household_id: int) -> list[Verification]:
    """The standing verification of each fact of a household (poverty status, each member's facts)."""
    query = (
        select(Verification)
        .where(Verification.household_id == household_id, _is_latest())
        .options(selectinload(Verification.laborer), selectinload(Verification.verified_by))
        .order_by(Verification.subject, Verification.laborer_id, Verification.id)
    )
    return list(session.scalars(query))


def expired(user: User, day: date | None = None) -> Select:
    """The standing verifications the user may see that no longer hold on `day`, oldest first."""
    day = day or clock.today()
    return (
        scope.scoped(Verification, user)
        .where(Verification.valid_until < day, _is_latest())
        .options(
            selectinload(Verification.household).selectinload(Household.village),
            selectinload(Verification.laborer),
        )
        .order_by(Verification.valid_until, Verification.id)
    )


def notify_expired(session: Session, day: date) -> int:
    """Tell the cadre and the office, once, of each standing verification that stopped holding."""
    rows = session.scalars(
        select(Verification)
        .where(and_(Verification.valid_until < day, Verification.expiry_told_on.is_(None)), _is_latest())
        .options(selectinload(Verification.household), selectinload(Verification.laborer))
        .order_by(Verification.id)
    ).all()
    for row in rows:
        row.expiry_told_on = day
        village = row.household.village_code
        people = inbox.cadres_of_village(session, village) + inbox.offices_over(session, village)
        inbox.notify(
            session,
            people,
            MessageKind.VERIFICATION_EXPIRED,
            params={
                "household": row.household.code,
                "person": row.laborer.name if row.laborer is not None else row.household.head_name,
                "valid_until": row.valid_until.isoformat(),
            },
            entity=row,
            key=f"verification-expired:{row.id}",
        )
    session.flush()
    return len(rows)
