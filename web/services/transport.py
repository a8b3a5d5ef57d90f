"""After departure (issue 13, part 4): the handover at arrival and the transport subsidy ledger.

**Handover.** A departed batch becomes `arrived` when the employer (or the office) records the handover:
the day, who received the passengers at the employer (name, phone), and for each passenger — every
placement on the batch that was accepted or working — whether they arrived or did not travel. An arrived
passenger's placement is at work from the arrival day; one who did not travel has the placement ended
with the reason given. All of it in one flush: a refused handover leaves the batch as it was.

**Ledger.** A migrant worker's fare is subsidised by the band of the batch's destination
(`DestinationBand`, set on the batch by the employer or office): the laborer's home county pays the
amount of its table (`SubsidyRate`, edited by its office) or, where it has none, the configured default
(`TRANSPORT_SUBSIDY_YUAN`), never above the province's cap (`TRANSPORT_SUBSIDY_CAP_YUAN`, Shanxi 800).
A claim becomes due when the 90-day check-in says the passenger still works there, the batch's handover
says the passenger arrived and the batch has a band; one claim per laborer per calendar year of the
check-in (the database's unique key has the last word). `create_due_claims` is the tick's step; the
office approves claims in bulk and exports the payment list and the public notice (公示: names,
villages and amounts, never an ID number or phone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from .. import clock
from ..config import setting
from ..errors import ConflictError, NotFoundError, ValidationError
from ..models import (
    COMMITTED_STATUSES,
    BatchStatus,
    ClaimStatus,
    DestinationBand,
    HandoverPassenger,
    Household,
    Laborer,
    MessageKind,
    Placement,
    PlacementEvent,
    PlacementStatus,
    Region,
    RegionLevel,
    RetentionCheckin,
    SubsidyClaim,
    SubsidyRate,
    TransportBatch,
    User,
)
from ..validation import check_phone
from . import inbox, scope, versions
from .accounts import audit
from .reports import Column, Report, identity_cells
from .retention import SUCCESS_DAY
from .scope import RegionScope

# -- the handover ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PassengerAnswer:
    """One passenger at the handover: arrived, or did not travel and why."""

    has_arrived: bool
    reason: str | None = None


def handover_passengers(session: Session, batch: TransportBatch) -> list[Placement]:
    """The passengers a handover answers for: the batch's accepted or working placements."""
    return list(
        session.scalars(
            select(Placement)
            .where(Placement.batch_id == batch.id, Placement.status.in_(COMMITTED_STATUSES))
            .options(selectinload(Placement.laborer).selectinload(Laborer.household))
            .order_by(Placement.id)
        )
    )


def handover_of(session: Session, batch: TransportBatch) -> list[HandoverPassenger]:
    """The recorded handover lines of an arrived batch, in placement order."""
    return list(
        session.scalars(
            select(HandoverPassenger)
            .where(HandoverPassenger.batch_id == batch.id)
            .options(selectinload(HandoverPassenger.placement).selectinload(Placement.laborer))
            .order_by(HandoverPassenger.placement_id)
        )
    )


def _checked_handover(
    batch: TransportBatch, arrived_on: date | None, name: str | None, phone: str | None, errors: dict[str, list]
) -> tuple[date, str, str]:
    """The handover's day, receiver and phone, checked; what is wrong goes into `errors` (all of it at once)."""
    today = clock.today()
    departed_on = clock.local_date(batch.departs_at)
    if arrived_on is None:
        errors["arrived_on"] = [_l("say on which day the passengers arrived")]
    elif arrived_on > today:
        errors["arrived_on"] = [_l("not after today")]
    elif arrived_on < departed_on:
        errors["arrived_on"] = [_l("not before the departure (%(day)s)", day=departed_on.isoformat())]
    name = (name or "").strip()
    if not name:
        errors["received_by_name"] = [_l("say who received the passengers")]
    try:
        phone = check_phone(phone or "")
    except ValueError as exc:
        errors["received_by_phone"] = [exc.args[0]]
    return arrived_on, name, phone  # type: ignore[return-value]


def record_handover(
    session: Session,
    user: User,
    batch_id: int,
    *,
    arrived_on: date | None,
    received_by_name: str | None,
    received_by_phone: str | None,
    passengers: Mapping[int, PassengerAnswer],
    remote_addr: str | None = None,
) -> TransportBatch:
    """Record a departed batch's handover at the employer: the batch becomes `arrived`; each passenger's
    placement is at work from the arrival day, or ended ("did not travel") with the reason given."""
    scope.require(user, "handover")
    scope.check_role(TransportBatch, user, scope.UPDATE_ROLES)
    batch = scope.get_visible(session, TransportBatch, batch_id, user, for_update=True)
    if batch.status != BatchStatus.DEPARTED:
        raise ConflictError(
            _l("only a departed batch can arrive"), {"status": [_l("the batch has not departed or has arrived")]}
        )
    errors: dict[str, list] = {}
    day, name, phone = _checked_handover(batch, arrived_on, received_by_name, received_by_phone, errors)
    people = handover_passengers(session, batch)
    known = {p.id for p in people}
    for placement_id in passengers:
        if placement_id not in known:
            errors[f"passengers.{placement_id}"] = [_l("not a passenger of this batch")]
    for placement in people:
        answer = passengers.get(placement.id)
        if answer is None:
            errors[f"passengers.{placement.id}"] = [_l("say whether %(name)s arrived", name=placement.laborer.name)]
        elif not answer.has_arrived and not (answer.reason or "").strip():
            errors[f"passengers.{placement.id}.reason"] = [
                _l("say why %(name)s did not travel", name=placement.laborer.name)
            ]
    if errors:
        raise ValidationError(_l("the handover is not complete"), errors)
    arrived = absent = 0
    for placement in people:
        answer = passengers[placement.id]
        reason = (answer.reason or "").strip() or None
        session.add(
            HandoverPassenger(
                batch_id=batch.id, placement_id=placement.id, has_arrived=answer.has_arrived, reason=reason
            )
        )
        if answer.has_arrived:
            arrived += 1
            if placement.status == PlacementStatus.ACCEPTED:  # a fresh row may still hold the plain string
                _step(placement, PlacementStatus.WORKING, user, day, note=None)
                placement.started_on = day
                audit(session, "placement_working", user=user, entity=placement, remote_addr=remote_addr)
        else:
            absent += 1
            _step(placement, PlacementStatus.ENDED, user, day, note=reason)
            placement.end_reason = reason
            placement.ended_on = max(day, placement.started_on) if placement.started_on else day
            audit(session, "placement_ended", user=user, entity=placement, remote_addr=remote_addr, reason=reason)
    batch.status = BatchStatus.ARRIVED
    batch.arrived_on = day
    batch.received_by_name = name
    batch.received_by_phone = phone
    batch.handover_by_id = user.id
    batch.handover_at = datetime.now(UTC)
    session.flush()
    audit(session, "batch_handover", user=user, entity=batch, remote_addr=remote_addr, arrived=arrived, absent=absent)
    _tell_arrival(session, batch, people, arrived, absent)
    return batch


def _step(placement: Placement, to: PlacementStatus, user: User, day: date, *, note: str | None) -> None:
    placement.events.append(PlacementEvent(from_status=placement.status, to_status=to, by_user_id=user.id, note=note))
    placement.status = to


def _tell_arrival(session: Session, batch: TransportBatch, people: list[Placement], arrived: int, absent: int) -> None:
    """The batch's county offices and the passengers' cadres hear that it arrived."""
    recipients = inbox.offices_over(session, batch.region_code)
    for village in sorted({p.laborer.household.village_code for p in people}):
        recipients += inbox.cadres_of_village(session, village)
    inbox.notify(
        session,
        recipients,
        MessageKind.BATCH_ARRIVED,
        params={"batch": batch.title, "arrived": arrived, "absent": absent, "day": str(batch.arrived_on)},
        entity=batch,
        key=f"batch-arrived:{batch.id}",
    )


# -- the county's table ------------------------------------------------------------------------------

BANDS: tuple[DestinationBand, ...] = tuple(DestinationBand)


def cap_cents(county_code: str) -> int | None:
    """The most this county may pay one laborer a year (cents), from the longest matching prefix; None: no cap."""
    caps: Mapping[str, int] = setting("TRANSPORT_SUBSIDY_CAP_YUAN") or {}
    matches = [prefix for prefix in caps if county_code.startswith(prefix)]
    return int(caps[max(matches, key=len)]) * 100 if matches else None


def default_cents(county_code: str, band: DestinationBand) -> int:
    """The configured amount of a band, cut to the county's cap."""
    amount = int((setting("TRANSPORT_SUBSIDY_YUAN") or {}).get(band.value, 0)) * 100
    cap = cap_cents(county_code)
    return amount if cap is None else min(amount, cap)


@dataclass(frozen=True)
class Rate:
    """One band's amount for a county, and whether the county set it or it is the default."""

    band: DestinationBand
    amount_cents: int
    is_default: bool


def rates_for(session: Session, county_code: str) -> list[Rate]:
    """A county's amount for every band (its own table, else the default)."""
    own = {
        row.band: row.amount_cents
        for row in session.scalars(select(SubsidyRate).where(SubsidyRate.county_code == county_code))
    }
    return [
        Rate(band, own[band], False) if band in own else Rate(band, default_cents(county_code, band), True)
        for band in BANDS
    ]


def county_of(session: Session, user: User, county_code: str) -> Region:
    """A county whose table this office keeps; 404 for another."""
    scope.require(user, "subsidies")
    region = session.get(Region, county_code)
    if region is None or region.level is not RegionLevel.COUNTY or not scope.covers_region(user, county_code):
        raise NotFoundError.of("region", county_code)
    return region


def ledger_counties(session: Session, user: User) -> list[Region]:
    """The counties whose table this office keeps (its own, or those inside its region)."""
    scope.require(user, "subsidies")
    return list(
        session.scalars(
            select(Region)
            .where(Region.level == RegionLevel.COUNTY, scope.in_scope(Region.code, user))
            .order_by(Region.code)
        )
    )


def set_rates(
    session: Session,
    user: User,
    county_code: str,
    amounts_yuan: Mapping[str, int | None],
    remote_addr: str | None = None,
) -> list[Rate]:
    """Set a county's amounts (yuan per band); a band left out keeps its amount. Refused above the cap."""
    scope.require(user, "subsidies")
    county_of(session, user, county_code)
    cap = cap_cents(county_code)
    errors: dict[str, list] = {}
    wanted: dict[DestinationBand, int] = {}
    for key, yuan in amounts_yuan.items():
        try:
            band = DestinationBand(key)
        except ValueError:
            errors[key] = [_l("unknown destination band")]
            continue
        if yuan is None:
            continue
        if yuan < 0:
            errors[key] = [_l("not below 0")]
        elif cap is not None and yuan * 100 > cap:
            errors[key] = [_l("at most %(cap)s yuan in this province", cap=cap // 100)]
        else:
            wanted[band] = int(yuan) * 100
    if errors:
        raise ValidationError(_l("the amounts are not valid"), errors)
    rows = {r.band: r for r in session.scalars(select(SubsidyRate).where(SubsidyRate.county_code == county_code))}
    changed = {}
    for band, cents in wanted.items():
        row = rows.get(band)
        if row is None:
            session.add(SubsidyRate(county_code=county_code, band=band, amount_cents=cents, updated_by_id=user.id))
        elif row.amount_cents != cents:
            row.amount_cents = cents
            row.updated_by_id = user.id
        else:
            continue
        changed[band.value] = cents / 100
    session.flush()
    if changed:
        audit(
            session,
            "subsidy_rates",
            user=user,
            subject="subsidy_rate",
            subject_id=county_code,
            remote_addr=remote_addr,
            changed=changed,
        )
    return rates_for(session, county_code)


# -- claims ------------------------------------------------------------------------------------------


def create_due_claims(session: Session, day: date) -> int:
    """The tick's step: a claim for every passenger whose 90-day check-in (on or before `day`) says they
    still work there, who arrived with an arrived batch that has a band, and who has no claim that year.

    Idempotent: a placement or a laborer-year that has a claim is skipped, so a second run creates nothing.
    """
    has_arrived = exists().where(
        HandoverPassenger.placement_id == Placement.id, HandoverPassenger.has_arrived.is_(True)
    )
    has_claim = exists().where(SubsidyClaim.placement_id == Placement.id)
    rows = session.execute(
        select(Placement, RetentionCheckin.checked_on, TransportBatch.destination_band, Household.village_code)
        .join(RetentionCheckin, RetentionCheckin.placement_id == Placement.id)
        .join(TransportBatch, TransportBatch.id == Placement.batch_id)
        .join(Household, Household.id == Placement.household_id)
        .where(
            RetentionCheckin.day == SUCCESS_DAY,
            RetentionCheckin.is_still_working.is_(True),
            RetentionCheckin.checked_on <= day,
            TransportBatch.status == BatchStatus.ARRIVED,
            TransportBatch.destination_band.is_not(None),
            has_arrived,
            ~has_claim,
        )
        .order_by(RetentionCheckin.checked_on, Placement.id)
    ).all()
    if not rows:
        return 0
    taken = {
        (laborer_id, year)
        for laborer_id, year in session.execute(
            select(SubsidyClaim.laborer_id, SubsidyClaim.year).where(
                SubsidyClaim.laborer_id.in_({p.laborer_id for p, *_ in rows})
            )
        )
    }
    rates: dict[str, dict[DestinationBand, int]] = {}
    made_by_county: dict[str, int] = defaultdict(int)
    for placement, checked_on, band, village in rows:
        assert band is not None  # the query keeps batches with a band only
        key = (placement.laborer_id, checked_on.year)
        if key in taken:
            continue
        taken.add(key)
        county = village[:6]
        if county not in rates:
            rates[county] = {r.band: r.amount_cents for r in rates_for(session, county)}
        claim = SubsidyClaim(
            laborer_id=placement.laborer_id,
            placement_id=placement.id,
            batch_id=placement.batch_id,
            county_code=county,
            village_code=village,
            year=checked_on.year,
            band=band,
            amount_cents=rates[county][band],
            due_on=checked_on,
        )
        session.add(claim)
        session.flush()
        audit(session, "subsidy_due", entity=claim, laborer_id=placement.laborer_id)
        made_by_county[county] += 1
    for county, count in sorted(made_by_county.items()):
        inbox.notify(
            session,
            inbox.offices_over(session, county),
            MessageKind.SUBSIDY_DUE,
            params={"count": count, "day": day.isoformat()},
            key=f"subsidy-due:{county}:{day.isoformat()}",
        )
    session.flush()
    return sum(made_by_county.values())


def claims_query(user: User, *, status: str | None = None, year: int | None = None, region: str | None = None):
    """The claims this office may see, filtered; newest due first."""
    scope.require(user, "subsidies")
    query = scope.scoped(SubsidyClaim, user)
    if status:
        query = query.where(SubsidyClaim.status == ClaimStatus(status))
    if year:
        query = query.where(SubsidyClaim.year == year)
    if region:
        query = query.where(SubsidyClaim.village_code.startswith(region))
    return query.order_by(SubsidyClaim.due_on.desc(), SubsidyClaim.id.desc())


def count(session: Session, query) -> int:
    """How many rows a claims query selects."""
    return versions.count_rows(session, query)


@dataclass(frozen=True)
class Totals:
    """How many claims and how much, by status."""

    count: dict[str, int]
    cents: dict[str, int]


def totals(session: Session, user: User, *, year: int | None = None, region: str | None = None) -> Totals:
    """The ledger's sums by status within the office's scope (the page's and the API's figures)."""
    inner = claims_query(user, year=year, region=region).order_by(None).subquery()
    rows = session.execute(
        select(inner.c.status, func.count(), func.coalesce(func.sum(inner.c.amount_cents), 0)).group_by(inner.c.status)
    ).all()
    count = {s.value: 0 for s in ClaimStatus}
    cents = {s.value: 0 for s in ClaimStatus}
    for status, n, total in rows:
        count[str(status)] = int(n)
        cents[str(status)] = int(total)
    return Totals(count, cents)


def approve_claims(session: Session, user: User, ids: Iterable[int], remote_addr: str | None = None) -> int:
    """Approve these due claims for payment (all or nothing: one outside the office's scope is a 404);
    claims already approved are left as they are. Returns how many were approved now."""
    scope.require(user, "subsidies")
    wanted = sorted(set(ids))
    if not wanted:
        raise ValidationError.on("ids", _l("choose at least one claim"))
    rows = session.scalars(
        scope.scoped(SubsidyClaim, user).where(SubsidyClaim.id.in_(wanted)).order_by(SubsidyClaim.id).with_for_update()
    ).all()
    missing = set(wanted) - {r.id for r in rows}
    if missing:
        raise NotFoundError.of("subsidy_claim", min(missing))
    now = datetime.now(UTC)
    approved = 0
    for claim in rows:
        if claim.status == ClaimStatus.APPROVED:
            continue
        claim.status = ClaimStatus.APPROVED
        claim.approved_by_id = user.id
        claim.approved_at = now
        audit(
            session, "subsidy_approved", user=user, entity=claim, remote_addr=remote_addr, laborer_id=claim.laborer_id
        )
        approved += 1
    session.flush()
    return approved


# -- the payment list and the public notice ----------------------------------------------------------


def _approved(session: Session, within: RegionScope, year: int):
    return session.execute(
        select(SubsidyClaim, Laborer, Region.name, TransportBatch)
        .join(Laborer, Laborer.id == SubsidyClaim.laborer_id)
        .join(Region, Region.code == SubsidyClaim.village_code)
        .join(TransportBatch, TransportBatch.id == SubsidyClaim.batch_id)
        .where(
            within.places(SubsidyClaim.village_code),
            SubsidyClaim.status == ClaimStatus.APPROVED,
            SubsidyClaim.year == year,
        )
        .order_by(SubsidyClaim.village_code, SubsidyClaim.id)
    ).all()


def payment_list(session: Session, within: RegionScope, year: int) -> Report:
    """The approved claims of a year for finance: who, where, which batch, how much, and the total row.
    ID numbers and phones as the disclosure policy shows a list (masked)."""
    rows, subjects, total = [], [], 0
    for number, (claim, laborer, village, batch) in enumerate(_approved(session, within, year), 1):
        subjects.append(laborer.id)
        total += claim.amount_cents
        rows.append(
            {
                "no": number,
                "name": laborer.name,
                **identity_cells(within, laborer, False),
                "village": village,
                "batch": batch.title,
                "destination": batch.destination,
                "band": claim.band.value,
                "due_on": claim.due_on,
                "amount_yuan": claim.amount_cents / 100,
            }
        )
    rows.append({"no": None, "name": _l("Total"), "amount_yuan": total / 100})
    return Report(
        "subsidy-payments",
        "Transport subsidy payment list",
        "务工交通补贴发放表",
        [
            Column("no", _l("No."), "序号", True),
            Column("name", _l("Name"), "姓名"),
            Column("id_number", _l("ID number"), "身份证号"),
            Column("phone", _l("Phone"), "电话"),
            Column("village", _l("Village"), "村"),
            Column("batch", _l("Batch"), "批次"),
            Column("destination", _l("Destination"), "目的地"),
            Column("band", _l("Destination band"), "地域档次", coded=True),
            Column("due_on", _l("90-day check-in"), "90天回访日期"),
            Column("amount_yuan", _l("Amount (yuan)"), "金额（元）", True),
        ],
        rows,
        "laborer",
        subjects,
    )


def public_notice(session: Session, within: RegionScope, year: int) -> Report:
    """The public notice (公示) of a year's approved claims: names, villages and amounts only — no ID
    number, no phone, nothing from which one could be read."""
    rows, subjects, total = [], [], 0
    for number, (claim, laborer, village, _batch) in enumerate(_approved(session, within, year), 1):
        subjects.append(laborer.id)
        total += claim.amount_cents
        rows.append(
            {
                "no": number,
                "name": laborer.name,
                "village": village,
                "band": claim.band.value,
                "amount_yuan": claim.amount_cents / 100,
            }
        )
    rows.append({"no": None, "name": _l("Total"), "amount_yuan": total / 100})
    return Report(
        "subsidy-notice",
        "Public notice of transport subsidies",
        "务工交通补贴公示",
        [
            Column("no", _l("No."), "序号", True),
            Column("name", _l("Name"), "姓名"),
            Column("village", _l("Village"), "村"),
            Column("band", _l("Destination band"), "地域档次", coded=True),
            Column("amount_yuan", _l("Amount (yuan)"), "金额（元）", True),
        ],
        rows,
        "laborer",
        subjects,
    )
