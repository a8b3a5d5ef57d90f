"""The offices' lists, each as rows a page shows and an XLSX file carries (DESIGN §7).

A report is built for a user's `RegionScope` (`web.services.scope.report_scope`): rows outside it
are never read (office: its region; cadre: their villages; employer: its own batches' passengers).
ID numbers and phones are shown as `services.disclosure` says for a list: masked, unless the export
was asked for with full ID numbers (`full_ids`, audited by the caller). Each report names the people
it carries (`subject_ids`), for the audit of who read them. Definitions of *at work*, *poor*,
*without work* and workshop recognition are those of `web.services.stats`. The passenger manifest is
built here only, for offices, cadres and employers alike.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from matcher.geo import geodesic_km

from .. import clock
from ..errors import NotFoundError, ValidationError
from ..models import (
    AT_WORK_STATUSES,
    CHANNELS,
    PASSENGER_STATUSES,
    POOR_STATUSES,
    Ability,
    Employer,
    EmployerKind,
    Household,
    Laborer,
    PickupPoint,
    Placement,
    Region,
    Role,
    TransportBatch,
    WelfarePost,
    WorkArea,
    channel_of,
)
from ..spreadsheets import append_row
from . import disclosure, versions
from .scope import RegionScope, visible
from .stats import (
    at_work_on,
    employer_figures,
    poor_household_without_work,
)


@dataclass(frozen=True)
class Column:
    """A report column: its key in the rows, its label (lazily translated) and its Chinese header.

    The XLSX header is always Chinese (the offices' spreadsheets are); the page follows the locale.
    A `coded` column holds stored codes (statuses, sex, post types, channels): the rows keep the code
    and the page layer shows its name (`web.labels.report_cell`), in pages and in the XLSX alike.
    """

    key: str
    label: Any
    header_zh: str
    is_number: bool = False
    coded: bool = False


@dataclass
class Report:
    """A built report: what it is, its columns and its rows (dicts keyed by column key)."""

    name: str
    title: str
    title_zh: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: The table of the people the rows are about ("laborer", "household"), and their ids.
    subject: str | None = None
    subject_ids: list[int] = field(default_factory=list)
    #: How many rows the whole report has, when it was built with only its first ones (``limit``).
    total: int | None = None

    @property
    def count(self) -> int:
        """The whole report's number of rows, whether or not all of them were built."""
        return len(self.rows) if self.total is None else self.total

    def to_xlsx(self, cell: Callable[[Column, Any], Any] | None = None) -> bytes:
        """The report as an XLSX workbook: one sheet, a Chinese header row, then the rows, each value
        as `cell(column, value)` says (the page layer passes the words of the codes)."""
        book = Workbook(write_only=True)
        sheet = book.create_sheet(self.title_zh[:31])
        append_row(sheet, [c.header_zh for c in self.columns])
        show = cell or (lambda _column, value: _cell(value))
        for row in self.rows:
            append_row(sheet, [show(c, row.get(c.key)) for c in self.columns])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def identity_cells(scope: RegionScope, laborer: Laborer, full_ids: bool, placement: Placement | None = None) -> dict:
    """The ID number and phone columns of a laborer's row, as the disclosure policy shows them (an
    employer sees the phone of its own accepted `placement`)."""
    view = disclosure.View.RECORD if full_ids else disclosure.View.LIST
    shown = disclosure.identity(scope.user, laborer, view, placement=placement)
    return {"id_number": shown.id_number, "phone": shown.phone}


def households_without_work(session: Session, scope: RegionScope, on: date, *, limit: int | None = None) -> Report:
    """Poor households where nobody works on `on`, by village: who a welfare post should go to.

    With ``limit``, only the first rows are read (a page shows the first ones of a province's tens of
    thousands) and ``total`` counts them all.
    """
    # The members are counted for the households shown only (a village's report does not group a province),
    # under an alias: the rule of who is without work looks at Laborer itself.
    member = aliased(Laborer)
    able_local = and_(member.physical_ability != Ability.NONE, member.work_area == WorkArea.LOCAL)
    shown = (Household.id, Household.village_code, Region.name, Household.code, Household.head_name)
    order = (Household.village_code, Household.code)
    households = (
        select(Household.id)
        .join(Region, Region.code == Household.village_code)
        .where(scope.people(), poor_household_without_work(on))
    )
    query = (
        select(
            *shown,
            Household.poverty_status,
            func.count(member.id),
            func.count(member.id).filter(able_local),
        )
        .join(Region, Region.code == Household.village_code)
        .outerjoin(member, member.household_id == Household.id)
        .where(Household.id.in_(households if limit is None else households.order_by(*order).limit(limit)))
        .group_by(*shown, Household.poverty_status)
        .order_by(*order)
    )
    found = session.execute(query).all()
    total = None
    if limit is not None:
        total = len(found) if len(found) < limit else versions.count_rows(session, households)
    rows = [
        {
            "village_code": village,
            "village": name,
            "household": code,
            "head_name": head,
            "poverty_status": str(status),
            "laborers": laborers,
            "able_local": able,
        }
        for _id, village, name, code, head, status, laborers, able in found
    ]
    return Report(
        "households-without-work",
        "Households still without work",
        "无人就业贫困户",
        [
            Column("village_code", _l("Village code"), "村代码"),
            Column("village", _l("Village"), "村"),
            Column("household", _l("Household"), "户编号"),
            Column("head_name", _l("Head of household"), "户主"),
            Column("poverty_status", _l("Poverty status"), "贫困属性", coded=True),
            Column("laborers", _l("Laborers"), "劳动力人数", True),
            Column("able_local", _l("Can take a local post"), "可就地上岗人数", True),
        ],
        rows,
        "household",
        [row[0] for row in found],
        total,
    )


def workshop_recognition(session: Session, scope: RegionScope, on: date, min_poor: int) -> Report:
    """Every workshop in scope: resumed, workers and poor workers on `on`, recognised or not."""
    where = and_(Employer.kind == EmployerKind.WORKSHOP, scope.counties(Employer.region_code))
    per = employer_figures(on, where, min_poor)
    query = (
        select(
            Employer.id, Employer.name, Employer.region_code, per.c.resumed, per.c.workers, per.c.poor, per.c.recognised
        )
        .join(per, per.c.employer_id == Employer.id)
        .order_by(Employer.region_code, Employer.id)
    )
    rows = []
    for employer_id, name, region_code, resumed, n_workers, n_poor, recognised in session.execute(query):
        rows.append(
            {
                "employer_id": employer_id,
                "name": name,
                "region_code": region_code,
                "resumed": bool(resumed),
                "workers": int(n_workers),
                "poor_workers": int(n_poor),
                "recognised": bool(recognised),
                "subsidy_eligible": bool(recognised),
            }
        )
    return Report(
        "workshop-recognition",
        "Workshop recognition list",
        "扶贫车间认定名单",
        [
            Column("employer_id", _l("Workshop no."), "车间编号", True),
            Column("name", _l("Workshop"), "车间名称"),
            Column("region_code", _l("Region code"), "区划代码"),
            Column("resumed", _l("Resumed"), "已复工"),
            Column("workers", _l("Workers"), "务工人数", True),
            Column("poor_workers", _l("Poor laborers working"), "贫困劳动力人数", True),
            Column("recognised", _l("Recognised"), "认定为扶贫车间"),
            Column("subsidy_eligible", _l("Subsidy eligible"), "享受补贴"),
        ],
        rows,
    )


def batch_manifest(
    session: Session, scope: RegionScope, batch_id: int | None = None, *, full_ids: bool = False
) -> Report:
    """Passengers of point-to-point batches (one batch, or all) in scope: from the villages of an
    office or a cadre, or every passenger of an employer's own batch. Pages, the offices' export and
    the employer's manifest all serve these rows."""
    conditions = [
        Placement.batch_id.is_not(None),
        Placement.status.in_(PASSENGER_STATUSES),
        scope.placements(),
    ]
    if batch_id is not None:
        # A batch the user may see, or one carrying people of their scope; any other batch is
        # answered exactly like a missing one, so that the answer never hints that it exists.
        own_passengers = (
            select(Placement.id)
            .join(Household, Household.id == Placement.household_id)
            .where(Placement.batch_id == TransportBatch.id, scope.placements())
            .exists()
        )
        found = session.scalar(
            select(TransportBatch.id).where(
                TransportBatch.id == batch_id,
                or_(visible(TransportBatch, scope.user), own_passengers),
            )
        )
        if found is None:
            raise NotFoundError.of("transport_batch", batch_id)
        conditions.append(Placement.batch_id == batch_id)
    query = (
        select(TransportBatch, Laborer, Household.village_code, Region.name, Placement)
        .join(Placement, Placement.batch_id == TransportBatch.id)
        .join(Laborer, Laborer.id == Placement.laborer_id)
        .join(Household, Household.id == Placement.household_id)
        .join(Region, Region.code == Household.village_code)
        .where(*conditions)
        .order_by(TransportBatch.departs_at, TransportBatch.id, Household.village_code, Laborer.id)
    )
    passengers = session.execute(query).all()
    points: dict[int, list[PickupPoint]] = defaultdict(list)
    batch_ids = {batch.id for batch, *_ in passengers}
    if batch_ids:
        for point in session.scalars(select(PickupPoint).where(PickupPoint.batch_id.in_(batch_ids))):
            points[point.batch_id].append(point)
    rows, subjects = [], []
    for batch, laborer, village, village_name, placement in passengers:
        status = placement.status
        subjects.append(laborer.id)
        departs_at = clock.local(batch.departs_at)
        pickup, pickup_km = _nearest_pickup(points[batch.id], laborer)
        rows.append(
            {
                "batch_id": batch.id,
                "batch": batch.title,
                "destination": batch.destination,
                "departs_at": departs_at.strftime("%Y-%m-%d %H:%M"),
                "name": laborer.name,
                **identity_cells(scope, laborer, full_ids, placement),
                "sex": str(laborer.sex),
                "age": laborer.age_on(departs_at.date()),
                "village_code": village,
                "village": village_name,
                "status": str(status),
                "pickup": pickup,
                "pickup_km": pickup_km,
            }
        )
    report = Report(
        "batch-manifest",
        "Transport batch manifest",
        "点对点输送人员名单",
        [
            Column("batch_id", _l("Batch no."), "批次编号", True),
            Column("batch", _l("Batch"), "批次"),
            Column("destination", _l("Destination"), "目的地"),
            Column("departs_at", _l("Departs (local time)"), "出发时间"),
            Column("name", _l("Name"), "姓名"),
            Column("id_number", _l("ID number"), "身份证号"),
            Column("sex", _l("Sex"), "性别", coded=True),
            Column("age", _l("Age at departure"), "出发时年龄", True),
            Column("phone", _l("Phone"), "电话"),
            Column("village", _l("Village"), "村"),
            Column("status", _l("Status"), "状态", coded=True),
            Column("pickup", _l("Pickup point"), "上车点"),
            Column("pickup_km", _l("Km to the pickup point"), "离上车点公里", True),
        ],
        rows,
        "laborer",
        subjects,
    )
    if scope.user.role is Role.EMPLOYER:  # no ID digits at all for employers (services.disclosure)
        report.columns = [c for c in report.columns if c.key != "id_number"]
    return report


def _nearest_pickup(points: list[PickupPoint], laborer: Laborer) -> tuple[str | None, float | None]:
    """The batch's pickup point nearest the laborer's home, and its distance to 0.1 km."""
    if not points:
        return None, None
    home = (laborer.lat, laborer.lon)
    km, point = min((geodesic_km(home, (p.lat, p.lon)), p.id, p) for p in points)[0::2]
    return point.name, round(km, 1)


def welfare_roster(session: Session, scope: RegionScope, on: date, *, full_ids: bool = False) -> Report:
    """Every welfare post in scope and who holds it on `on` (blank when vacant)."""
    holders = (
        select(
            Placement.welfare_post_id.label("post_id"),
            Placement.laborer_id.label("laborer_id"),
            Placement.started_on.label("started_on"),
        )
        .where(Placement.welfare_post_id.is_not(None), at_work_on(on))
        .subquery()
    )
    query = (
        select(WelfarePost, holders.c.started_on, Laborer, Household)
        .outerjoin(holders, holders.c.post_id == WelfarePost.id)
        .outerjoin(Laborer, Laborer.id == holders.c.laborer_id)
        .outerjoin(Household, Household.id == Laborer.household_id)
        .where(scope.places(WelfarePost.region_code))
        .order_by(WelfarePost.region_code, WelfarePost.id)
    )
    rows, subjects = [], []
    for post, started_on, laborer, household in session.execute(query):
        row = {
            "post_id": post.id,
            "title": post.title,
            "post_type": str(post.post_type),
            "region_code": post.region_code,
            "stipend_yuan": post.stipend_cents / 100,
            "name": None,
            "id_number": None,
            "phone": None,
            "household": None,
            "started_on": None,
        }
        if laborer is not None:
            subjects.append(laborer.id)
            row.update(
                name=laborer.name,
                household=household.code,
                started_on=started_on,
                **identity_cells(scope, laborer, full_ids),
            )
        rows.append(row)
    return Report(
        "welfare-roster",
        "Welfare post roster",
        "公益岗位花名册",
        [
            Column("post_id", _l("Post no."), "岗位编号", True),
            Column("title", _l("Post"), "岗位"),
            Column("post_type", _l("Type"), "类型", coded=True),
            Column("region_code", _l("Region code"), "区划代码"),
            Column("stipend_yuan", _l("Monthly stipend (yuan)"), "月补贴（元）", True),
            Column("name", _l("Holder"), "在岗人员"),
            Column("id_number", _l("ID number"), "身份证号"),
            Column("phone", _l("Phone"), "电话"),
            Column("household", _l("Household"), "户编号"),
            Column("started_on", _l("Since"), "上岗日期"),
        ],
        rows,
        "laborer",
        subjects,
    )


def placements_by_channel(session: Session, scope: RegionScope, start: date, end: date) -> Report:
    """Per month and channel: placements started in [start, end] (and of poor laborers), ended."""
    if end < start:
        raise ValidationError.on("end", "must not be before start")
    is_poor = Household.poverty_status.in_(POOR_STATUSES)
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"started": 0, "poor_started": 0, "ended": 0})
    base = (
        select(
            Placement.opening_id,
            Placement.batch_id,
            Placement.started_on,
            Placement.ended_on,
            is_poor,
        )
        .join(Household, Household.id == Placement.household_id)
        .where(scope.people(), Placement.status.in_(AT_WORK_STATUSES))
    )
    started = base.where(Placement.started_on >= start, Placement.started_on <= end)
    for opening_id, batch_id, started_on, _, poor in session.execute(started):
        cell = counts[(f"{started_on:%Y-%m}", channel_of(opening_id, batch_id).value)]
        cell["started"] += 1
        cell["poor_started"] += int(bool(poor))
    ended = base.where(Placement.ended_on >= start, Placement.ended_on <= end)
    for opening_id, batch_id, _, ended_on, _ in session.execute(ended):
        counts[(f"{ended_on:%Y-%m}", channel_of(opening_id, batch_id).value)]["ended"] += 1
    order = list(CHANNELS)
    rows = [
        {"month": month, "channel": channel, **figures}
        for (month, channel), figures in sorted(counts.items(), key=lambda i: (i[0][0], order.index(i[0][1])))
    ]
    return Report(
        "placements-by-channel",
        "Placements by channel and month",
        "分渠道就业情况",
        [
            Column("month", _l("Month"), "月份"),
            Column("channel", _l("Channel"), "渠道", coded=True),
            Column("started", _l("Started"), "新上岗", True),
            Column("poor_started", _l("Of whom poor"), "其中贫困劳动力", True),
            Column("ended", _l("Ended"), "离岗", True),
        ],
        rows,
    )


def welfare_public_notice(session: Session, scope: RegionScope, on: date) -> Report:
    """The public notice (公示) of welfare-post holders at work on `on`: names, villages, posts and stipends.

    Posted on village boards, so it carries nothing else about a person: no ID number, no phone, no
    health or ability detail, and no household code (the columns are fixed; a test checks them).
    """
    township = Region.__table__.alias("township")
    village = Region.__table__.alias("village")
    query = (
        select(
            Laborer.id,
            Laborer.name,
            village.c.name,
            township.c.name,
            WelfarePost.title,
            WelfarePost.post_type,
            WelfarePost.stipend_cents,
            Placement.started_on,
        )
        .join(Placement, Placement.laborer_id == Laborer.id)
        .join(WelfarePost, WelfarePost.id == Placement.welfare_post_id)
        .join(Household, Household.id == Laborer.household_id)
        .join(village, village.c.code == Household.village_code)
        .outerjoin(township, township.c.code == func.substr(Household.village_code, 1, 9))
        .where(scope.places(WelfarePost.region_code), at_work_on(on))
        .order_by(Household.village_code, WelfarePost.id, Laborer.id)
    )
    rows, subjects = [], []
    for laborer_id, name, village_name, township_name, title, post_type, stipend_cents, started_on in session.execute(
        query
    ):
        subjects.append(laborer_id)
        rows.append(
            {
                "township": township_name,
                "village": village_name,
                "name": name,
                "title": title,
                "post_type": str(post_type),
                "stipend_yuan": stipend_cents / 100,
                "started_on": started_on,
            }
        )
    return Report(
        "welfare-public-notice",
        "Public notice of welfare-post holders",
        "公益岗位人员公示",
        [
            Column("township", _l("Township"), "乡镇"),
            Column("village", _l("Village"), "村"),
            Column("name", _l("Name"), "姓名"),
            Column("title", _l("Post"), "岗位"),
            Column("post_type", _l("Type"), "类型", coded=True),
            Column("stipend_yuan", _l("Monthly stipend (yuan)"), "月补贴（元）", True),
            Column("started_on", _l("Since"), "上岗日期"),
        ],
        rows,
        "laborer",
        subjects,
    )


#: Reports whose rows carry ID numbers: they can be exported with full ID numbers when asked for.
WITH_ID_NUMBERS = ("batch-manifest", "welfare-roster")

#: Report names, in the order the reports page lists them.
REPORTS = (
    "households-without-work",
    "workshop-recognition",
    "batch-manifest",
    "welfare-roster",
    "welfare-public-notice",
    "placements-by-channel",
)
