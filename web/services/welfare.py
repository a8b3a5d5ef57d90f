"""Welfare posts administered month by month (issue 13, part 3): attendance, the stipend due, the payroll,
terms, the rule "no two incomes from one post", and the flags an office checks.

*Holders of a month*: placements to a welfare post that were at work on some day of it (status working or
ended, `started_on` <= the month's last day and `ended_on` after its first; `ended_on` is the first day no
longer at work, as in `web.services.stats.at_work_on`). The cadre records each holder's days present, one
form per village (the holder's household's village) and month; a holder is expected the month's working
days, or those their holding covers (`expected_days`). *The stipend due* (`stipend_due_cents`) is the
post's monthly stipend pro rata of the paid days over the month's working days, in integer cents rounded
half up; the rules are configuration (`WELFARE_*` in web.config) and the row keeps the stipend and the
days it was computed from, so that a payroll once paid reads the same later.

*The payroll* (用工台账) of a township and month lists every holder of a post of that township with their
days and the amount due (a holder not yet recorded shows as such, with nothing due) and the totals, for the
page, the API and an XLSX for finance (inert cells only, `web.spreadsheets`). *Terms* nearing their end are
listed; renewing or ending one is a `WelfareTermStep` (who, when) and audited; ending ends the holding.
*Other work*: when a holder's other placement becomes working, the post's holding ends ("started other
work", `end_posts_of_workers`, called by the placement transition and by the daily tick), and the offices
over the post are told, with the next candidate the welfare-post ranking proposes.
"""

from __future__ import annotations

import calendar
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from .. import clock
from ..config import setting
from ..errors import ConflictError, DomainError, NotFoundError, ValidationError
from ..models import (
    AT_WORK_STATUSES,
    HOLDING_STATUSES,
    OTHER_WORK_REASON,
    TERM_ENDED_REASON,
    Household,
    Laborer,
    MessageKind,
    Placement,
    PlacementEvent,
    PlacementStatus,
    PostingStatus,
    Region,
    RegionLevel,
    TermAction,
    User,
    WelfareAttendance,
    WelfarePost,
    WelfareTermStep,
)
from ..spreadsheets import append_row
from . import inbox, scope
from .accounts import audit
from .regions import in_region

#: A welfare-post holding, under a name of its own: the rules below compare it with the holder's other
#: placements (`Placement`) in correlated subqueries.
_Holding = aliased(Placement, name="holding")

# -- months and money ---------------------------------------------------------------------------------


def month_of(day: date) -> date:
    """The first day of the month `day` lies in."""
    return day.replace(day=1)


def month_end(month: date) -> date:
    """The last day of the month that begins on `month`."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def parse_month(value: str | None, *, field_name: str = "month") -> date:
    """A month written YYYY-MM; 422 naming the field otherwise. Empty: the month just ended, the one a cadre
    records and finance pays at the start of a month.

    A month that has not begun yet cannot be recorded or paid: it is refused too.
    """
    if not value:
        return add_months(month_of(clock.today()), -1)
    try:
        year, number = (int(part) for part in value.strip().split("-"))
        month = date(year, number, 1)
    except ValueError:
        raise ValidationError.on(field_name, _l("write the month as YYYY-MM")) from None
    if month > month_of(clock.today()):
        raise ValidationError.on(field_name, _l("this month has not begun yet"))
    return month


def _weekdays(first: date, last: date) -> int:
    return sum(1 for n in range((last - first).days + 1) if (first + timedelta(days=n)).weekday() < 5)


def month_work_days(month: date) -> int:
    """The working days a holder is expected in a whole month: WELFARE_WORK_DAYS, or Monday to Friday."""
    fixed = setting("WELFARE_WORK_DAYS")
    return int(fixed) if fixed else _weekdays(month, month_end(month))


def expected_days(month: date, started_on: date | None, ended_on: date | None) -> int:
    """The working days of `month` a holding from `started_on` until before `ended_on` covers."""
    first = max(month, started_on or month)
    last = min(month_end(month), ended_on - timedelta(days=1)) if ended_on else month_end(month)
    if last < first:
        return 0
    whole = month_work_days(month)
    if first == month and last == month_end(month):
        return whole
    if not setting("WELFARE_WORK_DAYS"):
        return _weekdays(first, last)
    covered, days = (last - first).days + 1, month_end(month).day
    return min(whole, (2 * whole * covered + days) // (2 * days))  # the share of the calendar, half up


def stipend_due_cents(stipend_cents: int, days_present: int, days_expected: int, work_days: int) -> int:
    """What a month of attendance earns: stipend × paid days ÷ the month's working days, half up to the cent.

    Paid days are the days present plus up to WELFARE_PAID_ABSENCE_DAYS of leave, never more than the days
    expected; below WELFARE_MIN_PRESENT_SHARE of the days expected present nothing is due.
    """
    if days_expected <= 0 or work_days <= 0:
        return 0
    if days_present < float(setting("WELFARE_MIN_PRESENT_SHARE")) * days_expected:
        return 0
    paid = min(days_expected, days_present + int(setting("WELFARE_PAID_ABSENCE_DAYS")))
    return (2 * stipend_cents * paid + work_days) // (2 * work_days)


# -- attendance ---------------------------------------------------------------------------------------


@dataclass
class HolderMonth:
    """One holder of one month: the holding, who, which post, the days expected and what was recorded."""

    placement: Placement
    laborer: Laborer
    post: WelfarePost
    days_expected: int
    work_days: int
    attendance: WelfareAttendance | None


def _held_in(month: date) -> Any:
    """Where-clause on Placement: a welfare-post holding at work on some day of `month`."""
    return and_(
        Placement.welfare_post_id.is_not(None),
        Placement.status.in_(AT_WORK_STATUSES),
        Placement.started_on.is_not(None),
        Placement.started_on <= month_end(month),
        or_(Placement.ended_on.is_(None), Placement.ended_on > month),
    )


def _holder_rows(session: Session, query: Select, month: date) -> list[HolderMonth]:
    rows = session.execute(query.order_by(WelfarePost.region_code, WelfarePost.id, Placement.id)).all()
    recorded = {
        a.placement_id: a
        for a in session.scalars(
            select(WelfareAttendance).where(
                WelfareAttendance.month == month,
                WelfareAttendance.placement_id.in_([placement.id for placement, _, _ in rows]),
            )
        )
    }
    work_days = month_work_days(month)
    return [
        HolderMonth(
            placement,
            laborer,
            post,
            expected_days(month, placement.started_on, placement.ended_on),
            work_days,
            recorded.get(placement.id),
        )
        for placement, laborer, post in rows
    ]


def _village(session: Session, user: User, village_code: str | None) -> Region:
    """A village the user looks after (a cadre's own, an office's region's; the first when none is given);
    404 otherwise."""
    scope.require(user, "attendance")
    code = (
        village_code
        or session.scalar(
            select(Region.code)
            .where(Region.level == RegionLevel.VILLAGE, scope.in_scope(Region.code, user))
            .order_by(Region.code)
            .limit(1)
        )
        or ""
    )
    row = session.get(Region, code) if code else None
    if row is None or len(code) != 12 or not scope.covers_village(user, code):
        raise NotFoundError.of("region", code or "—")
    return row


def holders(session: Session, user: User, village_code: str | None, month: date) -> tuple[Region, list[HolderMonth]]:
    """The village's welfare-post holders of `month` (those living in it), with what was recorded."""
    village = _village(session, user, village_code)
    query = (
        select(Placement, Laborer, WelfarePost)
        .join(Laborer, Laborer.id == Placement.laborer_id)
        .join(Household, Household.id == Laborer.household_id)
        .join(WelfarePost, WelfarePost.id == Placement.welfare_post_id)
        .where(_held_in(month), Household.village_code == village.code, scope.in_scope(Household.village_code, user))
    )
    return village, _holder_rows(session, query, month)


def _days(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


def check_days(rows: Iterable[HolderMonth], days: Mapping[int, Any], *, field_of=lambda pid: f"days_{pid}") -> dict:
    """Every complaint about the days given, by field: unknown holders, non-numbers, out of range."""
    known = {row.placement.id: row for row in rows}
    errors: dict[str, list[Any]] = {}
    for placement_id, value in days.items():
        row = known.get(placement_id)
        name = field_of(placement_id)
        if row is None:
            errors.setdefault(name, []).append(_l("not a holder of this village's posts in this month"))
            continue
        number = _days(value)
        if number is None or not 0 <= number <= row.days_expected:
            errors.setdefault(name, []).append(_l("a whole number of days from 0 to %(max)s", max=row.days_expected))
    return errors


def record_attendance(
    session: Session,
    user: User,
    village_code: str | None,
    month: date,
    days: Mapping[int, Any],
    *,
    remote_addr: str | None = None,
    via: str = "form",
) -> list[WelfareAttendance]:
    """Record (or correct) the days present of holders of a village's posts in `month`: all or nothing.

    `days` maps a holder's placement id to the days present. Every complaint is raised at once (422), and
    nothing is written when there is one.
    """
    village, rows = holders(session, user, village_code, month)
    errors = check_days(rows, days)
    if not days:
        errors["days"] = [_l("no days given")]
    if errors:
        raise ValidationError(_l("some days present are not right; nothing was saved"), errors)
    by_id = {row.placement.id: row for row in rows}
    saved = []
    for placement_id, value in days.items():
        row = by_id[placement_id]
        present = _days(value)
        assert present is not None  # checked above
        due = stipend_due_cents(row.post.stipend_cents, present, row.days_expected, row.work_days)
        attendance = row.attendance
        before = attendance.days_present if attendance is not None else None
        if attendance is None:
            attendance = WelfareAttendance(placement_id=placement_id, welfare_post_id=row.post.id, month=month)
            session.add(attendance)
        elif before == present and attendance.due_cents == due:
            saved.append(attendance)
            continue
        attendance.days_present = present
        attendance.days_expected = row.days_expected
        attendance.month_work_days = row.work_days
        attendance.stipend_cents = row.post.stipend_cents
        attendance.due_cents = due
        attendance.recorded_by_id = user.id
        session.flush()
        audit(
            session,
            "attendance",
            user=user,
            entity=attendance,
            remote_addr=remote_addr,
            laborer_id=row.laborer.id,
            month=month.isoformat()[:7],
            days=present,
            **_detail({"from": before, "via": via}),
        )
        saved.append(attendance)
    session.flush()
    return saved


# -- attendance sheets (XLSX) ----------------------------------------------------------------------

#: The attendance sheet's columns: (key, Chinese header). The cadre fills 出勤天数 only.
SHEET_COLUMNS = (
    ("placement_id", "在岗编号"),
    ("name", "姓名"),
    ("post", "岗位"),
    ("days_expected", "应出勤天数"),
    ("days_present", "出勤天数"),
)
SHEET_TITLE = "出勤"


def attendance_template(village: Region, month: date, rows: list[HolderMonth]) -> bytes:
    """The month's attendance sheet of a village: one row per holder, what was recorded already filled in."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    for cell in append_row(sheet, [header for _, header in SHEET_COLUMNS]):
        cell.font = Font(bold=True)
    for row in rows:
        recorded = row.attendance.days_present if row.attendance is not None else None
        append_row(sheet, [row.placement.id, row.laborer.name, row.post.title, row.days_expected, recorded])
    notes = book.create_sheet("说明")
    append_row(notes, ["村", f"{village.name}（{village.code}）"])
    append_row(notes, ["月份", month.isoformat()[:7]])
    append_row(notes, ["填写", "只填“出勤天数”：0 到应出勤天数之间的整数；不接受公式"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_attendance_sheet(filename: str, data: bytes) -> tuple[dict[int, Any], dict[int, int]]:
    """The days present of an uploaded attendance sheet by holder, and each holder's row number.

    The sheet is read as the laborers' import reads one (size, cell and formula checks,
    `web.services.imports.read_rows`); every complaint is raised at once, naming row and column.
    """
    from .imports import ImportFileError, read_rows  # the one reader of uploaded sheets

    if not (filename or "").lower().endswith(".xlsx"):
        raise ImportFileError(_l("only .xlsx files"))
    raw = read_rows(data)
    if len(raw) < 2:
        raise ImportFileError(_l("the file is empty"))
    headers = [str(v).strip() if v is not None else "" for v in raw[0][1]]
    wanted = {header: key for key, header in SHEET_COLUMNS}
    positions = {wanted[h]: i for i, h in enumerate(headers) if h in wanted}
    missing = [h for key, h in SHEET_COLUMNS if key in ("placement_id", "days_present") and key not in positions]
    if missing:
        raise ImportFileError(_l("missing columns: %(names)s", names="、".join(missing)))
    days: dict[int, Any] = {}
    numbers: dict[int, int] = {}
    problems: list[Any] = []
    for number, values in raw[1:]:
        cells = {key: values[index] if index < len(values) else None for key, index in positions.items()}
        holder = _days(cells["placement_id"])
        if holder is None or holder in days:
            problems.append(
                _cell_problem(number, positions["placement_id"], _l("not a holder number, or listed twice"))
            )
            continue
        days[holder], numbers[holder] = cells["days_present"], number
    if problems:
        raise _sheet_error(problems)
    return days, numbers


def _cell_problem(row: int, column: int, message: Any) -> Any:
    header = SHEET_COLUMNS[column][1] if column < len(SHEET_COLUMNS) else ""
    return _l(
        "row %(row)s, column %(column)s: %(message)s",
        row=row,
        column=f"{get_column_letter(column + 1)}（{header}）",
        message=message,
    )


def _sheet_error(problems: list[Any]) -> ValidationError:
    return ValidationError(_l("some rows of the sheet are not right; nothing was saved"), {"upload": problems})


def import_attendance(
    session: Session,
    user: User,
    village_code: str | None,
    month: date,
    filename: str,
    data: bytes,
    *,
    remote_addr: str | None = None,
) -> list[WelfareAttendance]:
    """Record a month's attendance from an uploaded sheet: every row right, or nothing written.

    Every complaint is raised at once, each naming the sheet's row (as the spreadsheet numbers it) and column.
    """
    days, numbers = read_attendance_sheet(filename, data)
    _village_row, rows = holders(session, user, village_code, month)
    errors = check_days(rows, days)
    if errors:
        column = {"placement_id": 0, "days_present": 4}
        problems = []
        for placement_id in days:
            for message in errors.get(f"days_{placement_id}", []):
                known = any(row.placement.id == placement_id for row in rows)
                where = column["days_present"] if known else column["placement_id"]
                problems.append(_cell_problem(numbers[placement_id], where, message))
        raise _sheet_error(problems)
    return record_attendance(session, user, village_code, month, days, remote_addr=remote_addr, via="sheet")


# -- the payroll (用工台账) ----------------------------------------------------------------------------


@dataclass
class Payroll:
    """A township's month: each holder's line and the totals, in integer cents."""

    township: Region
    month: date
    lines: list[HolderMonth] = field(default_factory=list)

    @property
    def due_cents(self) -> int:
        return sum(line.attendance.due_cents for line in self.lines if line.attendance is not None)

    @property
    def days_present(self) -> int:
        return sum(line.attendance.days_present for line in self.lines if line.attendance is not None)

    @property
    def days_expected(self) -> int:
        return sum(line.days_expected for line in self.lines)

    @property
    def missing(self) -> int:
        """Holders whose month is not recorded yet (nothing is due for them until it is)."""
        return sum(1 for line in self.lines if line.attendance is None)

    @property
    def laborer_ids(self) -> list[int]:
        return [line.laborer.id for line in self.lines]


def townships(session: Session, user: User) -> list[Region]:
    """The townships whose payroll the user may read (an office's region's)."""
    scope.require(user, "welfare_admin")
    query = (
        select(Region)
        .where(Region.level == RegionLevel.TOWNSHIP, scope.in_scope(Region.code, user))
        .order_by(Region.code)
    )
    return list(session.scalars(query))


def payroll(session: Session, user: User, township_code: str | None, month: date) -> Payroll:
    """The payroll of a township's welfare posts for `month` (offices; 404 for a township outside)."""
    scope.require(user, "welfare_admin")
    code = township_code or next((t.code for t in townships(session, user)), "")
    township = session.get(Region, code) if code else None
    if township is None or len(code) != 9 or not scope.sees_region(user, code):
        raise NotFoundError.of("region", code or "—")
    query = (
        select(Placement, Laborer, WelfarePost)
        .join(Laborer, Laborer.id == Placement.laborer_id)
        .join(WelfarePost, WelfarePost.id == Placement.welfare_post_id)
        .where(_held_in(month), in_region(WelfarePost.region_code, code), scope.visible(Placement, user))
        .options(selectinload(Laborer.household).selectinload(Household.village))
    )
    return Payroll(township, month, _holder_rows(session, query, month))


def payroll_xlsx(sheet_payroll: Payroll, post_type_name=lambda code: code) -> bytes:
    """The payroll as a workbook for finance: Chinese headers, one line per holder, a totals line; amounts
    are numbers in yuan written as values (no formula anywhere: the totals are computed here)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("用工台账")
    month = sheet_payroll.month.isoformat()[:7]
    append_row(sheet, [f"{sheet_payroll.township.name} 公益岗位用工台账 {month}"])
    append_row(
        sheet,
        [
            "在岗编号",
            "村",
            "户编号",
            "姓名",
            "岗位",
            "类型",
            "月补贴（元）",
            "应出勤天数",
            "出勤天数",
            "应发（元）",
            "备注",
        ],
    )
    for line in sheet_payroll.lines:
        recorded = line.attendance
        household = line.laborer.household
        append_row(
            sheet,
            [
                line.placement.id,
                household.village.name if household.village is not None else household.village_code,
                household.code,
                line.laborer.name,
                line.post.title,
                post_type_name(line.post.post_type.value),
                (recorded.stipend_cents if recorded else line.post.stipend_cents) / 100,
                line.days_expected,
                recorded.days_present if recorded else None,
                recorded.due_cents / 100 if recorded else 0,
                "" if recorded else "未登记出勤",
            ],
        )
    append_row(
        sheet,
        [
            "合计",
            None,
            None,
            f"{len(sheet_payroll.lines)} 人",
            None,
            None,
            None,
            sheet_payroll.days_expected,
            sheet_payroll.days_present,
            sheet_payroll.due_cents / 100,
            f"未登记 {sheet_payroll.missing} 人" if sheet_payroll.missing else "",
        ],
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- terms ---------------------------------------------------------------------------------------------


@dataclass
class TermRow:
    """A post whose term ends soon (or has ended while still open), and its holder if any."""

    post: WelfarePost
    holding: Placement | None
    days_left: int


def _detail(values: dict[str, Any]) -> dict[str, Any]:
    """Audit details whose names are Python keywords ("from")."""
    return values


def _holding(session: Session, post_id: int) -> Placement | None:
    return session.scalar(
        select(Placement)
        .where(Placement.welfare_post_id == post_id, Placement.status.in_(HOLDING_STATUSES))
        .order_by(Placement.id)
        .limit(1)
    )


def terms_ending(session: Session, user: User, today: date) -> list[TermRow]:
    """The open posts in the user's region whose term ends within WELFARE_TERM_NOTICE_DAYS (or has ended)."""
    scope.require(user, "welfare_admin")
    horizon = today + timedelta(days=int(setting("WELFARE_TERM_NOTICE_DAYS")))
    posts = session.scalars(
        scope.scoped(WelfarePost, user)
        .where(
            WelfarePost.status != PostingStatus.CLOSED,
            WelfarePost.term_end_on.is_not(None),
            WelfarePost.term_end_on <= horizon,
        )
        .options(selectinload(WelfarePost.region))
        .order_by(WelfarePost.term_end_on, WelfarePost.id)
    ).all()
    holdings = _holdings(session, [p.id for p in posts])
    return [TermRow(p, holdings.get(p.id), (p.term_end_on - today).days) for p in posts if p.term_end_on]


def _holdings(session: Session, post_ids: list[int]) -> dict[int, Placement]:
    if not post_ids:
        return {}
    rows = session.scalars(
        select(Placement)
        .where(Placement.welfare_post_id.in_(post_ids), Placement.status.in_(HOLDING_STATUSES))
        .options(selectinload(Placement.laborer))
        .order_by(Placement.id)
    )
    found: dict[int, Placement] = {}
    for row in rows:
        found.setdefault(row.welfare_post_id, row)  # type: ignore[arg-type]
    return found


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _end_holding(placement: Placement, reason: str, day: date, by: User | None) -> None:
    """End a holding along the lifecycle: an offer still unanswered is declined, anything later is ended."""
    to = PlacementStatus.DECLINED if placement.status is PlacementStatus.OFFERED else PlacementStatus.ENDED
    placement.events.append(
        PlacementEvent(from_status=placement.status, to_status=to, by_user_id=by.id if by else None, note=reason)
    )
    if placement.status is PlacementStatus.WORKING:
        placement.ended_on = max(day, placement.started_on or day)
    placement.status = to
    if to is PlacementStatus.DECLINED:
        placement.decline_reason = reason
    else:
        placement.end_reason = reason


def renew_term(
    session: Session,
    user: User,
    post_id: int,
    *,
    new_end_on: date | None = None,
    note: str | None = None,
    remote_addr: str | None = None,
) -> WelfareTermStep:
    """Renew a post's term to `new_end_on` (default: WELFARE_TERM_MONTHS after the current end)."""
    scope.require(user, "welfare_admin")
    post = scope.get_visible(session, WelfarePost, post_id, user, for_update=True)
    if post.status is PostingStatus.CLOSED:
        raise ConflictError(_l("this post is closed; its term cannot be renewed"))
    old = post.term_end_on
    end = new_end_on or add_months(old or clock.today(), int(setting("WELFARE_TERM_MONTHS")))
    if end <= (old or post.term_start_on) or end < clock.today():
        raise ValidationError.on("term_end_on", _l("the new end day must come after the current one and today"))
    post.term_end_on = end
    step = WelfareTermStep(
        welfare_post_id=post.id,
        action=TermAction.RENEWED,
        old_end_on=old,
        new_end_on=end,
        by_user_id=user.id,
        note=note,
    )
    session.add(step)
    session.flush()
    audit(
        session,
        "term_renewed",
        user=user,
        entity=post,
        remote_addr=remote_addr,
        **_detail({"from": str(old), "to": str(end)}),
    )
    return step


def end_term(
    session: Session, user: User, post_id: int, *, note: str | None = None, remote_addr: str | None = None
) -> WelfareTermStep:
    """End a post's term today: the holding ends ("term ended") and the post closes."""
    scope.require(user, "welfare_admin")
    post = scope.get_visible(session, WelfarePost, post_id, user, for_update=True)
    if post.status is PostingStatus.CLOSED:
        raise ConflictError(_l("this post is closed already"))
    today = clock.today()
    holding = _holding(session, post.id)
    if holding is not None:
        _end_holding(holding, TERM_ENDED_REASON, today, user)
    old = post.term_end_on
    post.status = PostingStatus.CLOSED
    post.term_end_on = max(today, post.term_start_on) if old is None or old > today else old
    step = WelfareTermStep(
        welfare_post_id=post.id,
        action=TermAction.ENDED,
        old_end_on=old,
        new_end_on=post.term_end_on,
        placement_id=holding.id if holding else None,
        by_user_id=user.id,
        note=note,
    )
    session.add(step)
    session.flush()
    audit(
        session,
        "term_ended",
        user=user,
        entity=post,
        remote_addr=remote_addr,
        placement_id=holding.id if holding else None,
        laborer_id=holding.laborer_id if holding else None,
    )
    return step


def warn_terms_ending(session: Session, day: date) -> int:
    """Tell the offices over each open post whose term ends within the notice days (once per term end)."""
    horizon = day + timedelta(days=int(setting("WELFARE_TERM_NOTICE_DAYS")))
    posts = session.scalars(
        select(WelfarePost)
        .where(
            WelfarePost.status != PostingStatus.CLOSED,
            WelfarePost.term_end_on.is_not(None),
            WelfarePost.term_end_on >= day,
            WelfarePost.term_end_on <= horizon,
        )
        .order_by(WelfarePost.id)
    ).all()
    told = 0
    for post in posts:
        told += inbox.notify(
            session,
            inbox.offices_over(session, post.region_code),
            MessageKind.WELFARE_TERM_ENDING,
            params={"post": post.title, "term_end_on": post.term_end_on.isoformat() if post.term_end_on else None},
            entity=post,
            key=f"welfare-term-ending:{post.id}:{post.term_end_on}",
        )
    return told


# -- no two incomes from one post --------------------------------------------------------------------


def _working_elsewhere() -> Any:
    """Where-clause on Placement (a welfare holding): its laborer has another placement at work."""
    other = select(Placement.id).where(
        Placement.laborer_id == _Holding.laborer_id,
        Placement.welfare_post_id.is_(None),
        Placement.status == PlacementStatus.WORKING,
    )
    return other.exists()


def end_posts_of_workers(session: Session, day: date, *, laborer_ids: Iterable[int] | None = None) -> int:
    """End the welfare-post holdings of holders who are at work elsewhere ("started other work") and tell
    the offices over each post, naming the next candidate the welfare-post ranking proposes.

    Idempotent: an ended holding is no longer working. The placement transition calls it for the laborer
    who starts work; the daily tick for everyone (a placement set working by any other path).
    """
    query = (
        select(_Holding)
        .where(
            _Holding.welfare_post_id.is_not(None),
            _Holding.status == PlacementStatus.WORKING,
            _working_elsewhere(),
        )
        .order_by(_Holding.id)
        .with_for_update(of=_Holding)
    )
    if laborer_ids is not None:
        query = query.where(_Holding.laborer_id.in_(list(laborer_ids)))
    ended = session.scalars(query).all()
    for holding in ended:
        _end_holding(holding, OTHER_WORK_REASON, day, None)
        session.flush()
        post = holding.welfare_post
        audit(session, "placement_ended", entity=holding, reason=OTHER_WORK_REASON, laborer_id=holding.laborer_id)
        offices = inbox.offices_over(session, post.region_code)
        candidate = next_candidate(session, offices[0], post) if offices else None
        inbox.notify(
            session,
            offices,
            MessageKind.WELFARE_POST_VACATED,
            params={
                "post": post.title,
                "laborer": holding.laborer.name,
                "candidate": candidate.name if candidate is not None else None,
            },
            entity=post,
            key=f"welfare-post-vacated:{holding.id}",
        )
    session.flush()
    return len(ended)


def next_candidate(session: Session, user: User, post: WelfarePost) -> Laborer | None:
    """The laborer the welfare-post ranking puts first for `post` (poor households without work first)."""
    try:
        ranked = candidates(session, user, post.id, limit=1)
    except DomainError:  # a post the office may not see or rank: the message names no candidate
        return None
    return ranked[0][0] if ranked else None


def candidates(session: Session, user: User, post_id: int, *, limit: int = 10) -> list[tuple[Laborer, Any]]:
    """The ranked candidates for a post (the existing welfare-post ranking, within the user's scope)."""
    from flask import current_app, has_app_context

    from . import convert, ranking

    if not has_app_context():
        return []
    result = ranking.candidates_for_target(
        session, user, "welfare_post", post_id, convert.matcher_config(current_app.config), limit=limit
    )
    ids = [m.laborer_id for m in result.matches]
    rows = {r.id: r for r in session.scalars(select(Laborer).where(Laborer.id.in_(ids)))} if ids else {}
    return [(rows[m.laborer_id], m) for m in result.matches if m.laborer_id in rows]


# -- flags ---------------------------------------------------------------------------------------------


@dataclass
class Flags:
    """What an office checks about its posts' holders, computed from the records (not from the rules)."""

    working_elsewhere: list[Placement]
    two_posts: list[tuple[Household, list[Placement]]]
    over_age: list[tuple[Placement, int, int]]  # the holding, the holder's age, the limit

    @property
    def laborer_ids(self) -> list[int]:
        ids = [p.laborer_id for p in self.working_elsewhere]
        ids += [p.laborer_id for _, held in self.two_posts for p in held]
        ids += [p.laborer_id for p, _, _ in self.over_age]
        return sorted(set(ids))


def flags(session: Session, user: User, today: date) -> Flags:
    """Holders at work elsewhere, households holding two posts, holders past the age limit (offices)."""
    scope.require(user, "welfare_admin")
    in_scope = and_(_Holding.welfare_post_id.is_not(None), _Holding.status.in_(HOLDING_STATUSES))
    visible = (
        select(Household.id)
        .join(Laborer, Laborer.household_id == Household.id)
        .where(Laborer.id == _Holding.laborer_id, scope.in_scope(Household.village_code, user))
        .exists()
    )
    options = (selectinload(_Holding.laborer), selectinload(_Holding.welfare_post))
    elsewhere = session.scalars(
        select(_Holding).where(in_scope, visible, _working_elsewhere()).options(*options).order_by(_Holding.id)
    ).all()
    # Should be impossible (the one-post-per-household index), and checked from the data all the same.
    doubled = (
        session.execute(
            select(_Holding.household_id)
            .where(in_scope, visible)
            .group_by(_Holding.household_id)
            .having(func.count(_Holding.id) > 1)
        )
        .scalars()
        .all()
    )
    two_posts = []
    for household_id in doubled:
        held = session.scalars(
            select(_Holding).where(in_scope, _Holding.household_id == household_id).options(*options)
        ).all()
        two_posts.append((session.get(Household, household_id), list(held)))
    max_age = int(setting("MAX_LABOR_AGE"))
    over = []
    for holding in session.scalars(select(_Holding).where(in_scope, visible).options(*options).order_by(_Holding.id)):
        limit = holding.welfare_post.max_age or max_age
        age = holding.laborer.age_on(today)
        if age > limit:
            over.append((holding, age, limit))
    return Flags(list(elsewhere), two_posts, over)  # type: ignore[arg-type]
