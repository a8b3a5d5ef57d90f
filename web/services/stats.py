"""Figures for a region on a day, computed from the records by grouped SQL (DESIGN §7).

Definitions (the dashboard, the API and the reports all use these):

* **At work on day D**: a placement in status ``working`` or ``ended`` with
  ``started_on <= D`` and (``ended_on`` is null or ``ended_on > D``). A laborer is at work when one of
  their placements is; counts are of distinct laborers.
* **Poor**: the laborer's household is ``registered_poor`` or ``monitored`` (`POOR_STATUSES`).
* **Where**: a laborer is where their household's village is; an employer, a welfare post, where its
  ``region_code`` is. Region codes are prefixes of each other, so a region is a code prefix.
* **Workers of an employer**: laborers at work on D in one of its openings or transport batches.
  **Resumed**: at least one worker on D, or marked resumed by an office. **Recognised** workshop: at
  least ``WORKSHOP_RECOGNITION_MIN_POOR`` poor workers on D (DESIGN §2). `employer_figures` is the
  one place these are computed: the dashboard, the API, the reports and the office's workshops page
  all read it.
* **Household still without work** on D: a poor household none of whose members is at work on D or
  has the status employed / self-employed (a status is today's fact; it is applied to any D).
* **Year on year**: the same figure on the same day a year before (29 Feb → 28 Feb).

Every figure is additive over disjoint regions except the percentage, so a region's figures are the
sum of its children's (records placed directly on the region, e.g. a county-level labor agency,
form a child row of their own: see `children_stats`).

Speed: figures grouped by province, city or county (the province and city pages) are read from the
summaries of `web.services.summaries` (per-day changes per county, exact for any day, refreshed in
the transaction of every change), and so are the employers' workers (per-day changes per employer);
township and village figures are grouped from the records directly, since they touch at most one
county's rows. ``direct=True`` computes everything from the records: the reference the tests
compare the summaries with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from ..errors import NotFoundError
from ..models import (
    AT_WORK_STATUSES,
    CODE_LENGTH,
    EMPLOYING_KINDS,
    POOR_STATUSES,
    SUMMARY_FIGURES,
    WORKING_STATUSES,
    Employer,
    EmployerDayStat,
    EmployerKind,
    Household,
    Laborer,
    Opening,
    Placement,
    Region,
    RegionDayStat,
    TransportBatch,
    WelfarePost,
)
from . import versions
from .regions import in_region
from .summaries import apply_pending

DEFAULT_MIN_POOR = 5
#: Code lengths from the province down to the village.
LEVEL_LENGTHS = sorted(CODE_LENGTH.values())


@dataclass
class RegionStats:
    """What jiuye's records say about one region on one day."""

    region_code: str
    on: date
    enterprises: int = 0
    enterprises_resumed: int = 0
    enterprise_workers: int = 0
    enterprise_poor_workers: int = 0
    workshops: int = 0
    workshops_resumed: int = 0
    workshops_recognised: int = 0
    workshop_workers: int = 0
    workshop_poor_workers: int = 0
    laborers_at_work: int = 0
    at_work_opening: int = 0
    at_work_batch: int = 0
    at_work_welfare_post: int = 0
    poor_at_work: int = 0
    poor_at_work_opening: int = 0
    poor_at_work_batch: int = 0
    poor_at_work_welfare_post: int = 0
    poor_at_work_year_before: int = 0
    poor_households: int = 0
    households_without_work: int = 0
    welfare_posts: int = 0
    welfare_posts_filled: int = 0
    region_name: str | None = field(default=None, compare=False)

    @property
    def poor_at_work_change_pct(self) -> Decimal | None:
        """Year-on-year change of poor laborers at work, in %, rounded half-up to 0.1."""
        return change_pct(self.poor_at_work, self.poor_at_work_year_before)

    def as_dict(self) -> dict:
        """Every figure, with the percentage as a float (None without a year-before figure)."""
        data = asdict(self)
        pct = self.poor_at_work_change_pct
        data["poor_at_work_change_pct"] = float(pct) if pct is not None else None
        return data

    def add(self, other: RegionStats) -> None:
        """Add other's additive figures to this one's."""
        for name in ADDITIVE:
            setattr(self, name, getattr(self, name) + getattr(other, name))


ADDITIVE = tuple(f.name for f in fields(RegionStats) if f.type == "int")


def change_pct(now: int, before: int) -> Decimal | None:
    """(now - before) / before in %, rounded half-up to one decimal; None when before is 0."""
    if not before:
        return None
    return (Decimal(now - before) * 100 / Decimal(before)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def year_before(day: date) -> date:
    """The same day a year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def at_work_on(day: date) -> ColumnElement[bool]:
    """Where-clause: the placement is at work on day (see the module docstring)."""
    return and_(
        Placement.status.in_(AT_WORK_STATUSES),
        Placement.started_on <= day,
        or_(Placement.ended_on.is_(None), Placement.ended_on > day),
    )


def child_length(code: str) -> int | None:
    """The code length of the region's children; None for a village."""
    longer = [n for n in LEVEL_LENGTHS if n > len(code)]
    return longer[0] if longer else None


def _is_poor() -> ColumnElement[bool]:
    return Household.poverty_status.in_(POOR_STATUSES)


def _flag(condition: ColumnElement[bool]):
    return case((condition, 1), else_=0)


#: Groupings at this code length or shorter are read from the summaries.
SUMMARY_MAX_LENGTH = 6


def _grouped(
    session: Session,
    prefix: str,
    length: int,
    on: date,
    min_poor: int,
    months: Sequence[date] = (),
    lines: dict[str, list[int]] | None = None,
    direct: bool = False,
) -> dict[str, RegionStats]:
    """Figures of every region with code length `length` inside `prefix`, by grouped queries.

    With `months`, `lines` receives each region's poor laborers at work on those days too, from
    the same scan of the placements (or of the summaries).
    """
    found: dict[str, RegionStats] = {}

    def row_for(key: str) -> RegionStats:
        if key not in found:
            found[key] = RegionStats(region_code=key, on=on)
        return found[key]

    if not direct:
        _summaries_up_to_date(session)
    _employer_figures(session, prefix, length, on, min_poor, row_for, direct)
    if length <= SUMMARY_MAX_LENGTH and not direct:
        _summary_figures(session, prefix, length, on, row_for, months, lines)
    else:
        _laborer_figures(session, prefix, length, on, row_for, months, lines)
        _household_figures(session, prefix, length, on, row_for)
        _welfare_figures(session, prefix, length, on, row_for)
    return found


def _summaries_up_to_date(session: Session) -> None:
    """Summarise what this transaction changed so far, before reading the summaries."""
    apply_pending(session)


def _summary_figures(session, prefix, length, on, row_for, months=(), lines=None) -> None:
    """Laborer, household and welfare-post figures from the summaries (web.services.summaries).

    A region of the grouping is a summary row of grain `length`; records placed directly on
    `prefix` itself (its own grain-0 rows) form the extra child row.
    """
    figures = [getattr(RegionDayStat, name) for name in SUMMARY_FIGURES]
    parts = [
        select(RegionDayStat.region_code.label("key"), RegionDayStat.day, *figures).where(
            RegionDayStat.grain == length, in_region(RegionDayStat.region_code, prefix)
        )
    ]
    if length > len(prefix):
        parts.append(
            select(literal(prefix).label("key"), RegionDayStat.day, *figures).where(
                RegionDayStat.grain == 0, RegionDayStat.region_code == prefix
            )
        )
    rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()

    def upto(day: date, name: str):
        return func.coalesce(func.sum(case((rows.c.day <= day, rows.c[name]), else_=0)), 0)

    query = (
        select(
            rows.c.key,
            *(upto(on, name) for name in SUMMARY_FIGURES),
            upto(year_before(on), "poor_at_work"),
            *(upto(day, "poor_at_work") for day in months),
        )
        .where(rows.c.day <= max([on, *months]))
        .group_by(rows.c.key)
    )
    for code, *values in session.execute(query):
        row = row_for(code)
        for name, value in zip(SUMMARY_FIGURES, values, strict=False):
            setattr(row, name, int(value))
        row.poor_at_work_year_before = int(values[len(SUMMARY_FIGURES)])
        if months and lines is not None:
            lines[code] = [int(n) for n in values[len(SUMMARY_FIGURES) + 1 :]]


def employer_workers(on: date, employer_where: ColumnElement[bool]):
    """Subquery (employer_id, workers, poor): distinct laborers at work on `on` per employer,
    through its openings and its transport batches, for the employers matching employer_where."""
    links = union_all(
        select(
            Opening.employer_id.label("employer_id"),
            Placement.laborer_id.label("laborer_id"),
            _flag(_is_poor()).label("is_poor"),
        )
        .join(Placement, Placement.opening_id == Opening.id)
        .join(Household, Household.id == Placement.household_id)
        .join(Employer, Employer.id == Opening.employer_id)
        .where(employer_where, at_work_on(on)),
        select(
            TransportBatch.employer_id,
            Placement.laborer_id,
            _flag(_is_poor()),
        )
        .join(Placement, Placement.batch_id == TransportBatch.id)
        .join(Household, Household.id == Placement.household_id)
        .join(Employer, Employer.id == TransportBatch.employer_id)
        .where(employer_where, at_work_on(on)),
    ).subquery()
    return (
        select(
            links.c.employer_id,
            func.count(distinct(links.c.laborer_id)).label("workers"),
            func.count(distinct(case((links.c.is_poor == 1, links.c.laborer_id)))).label("poor"),
        )
        .group_by(links.c.employer_id)
        .subquery()
    )


def is_resumed(workers, is_marked_resumed) -> ColumnElement[bool]:
    """The rule: an employer has resumed when it has a worker, or an office marked it resumed."""
    return or_(workers > 0, is_marked_resumed)


def is_recognised(poor_workers, min_poor: int) -> ColumnElement[bool]:
    """The rule: a workshop is recognised when at least `min_poor` poor laborers work there."""
    return poor_workers >= min_poor


def employer_figures(on: date, employer_where: ColumnElement[bool], min_poor: int, *, direct: bool = True):
    """Subquery, one row per employer matching employer_where: its ``region_code`` and ``kind``,
    ``workers`` and ``poor`` (distinct laborers at work on `on`), and the flags ``resumed`` and
    ``recognised`` (1 or 0) by the rules above.

    `direct` counts the workers from the records; otherwise from the employers' per-day summaries
    (`web.services.summaries`, the same figures, which the caller brings up to date first).
    """
    if direct:
        per_employer = employer_workers(on, employer_where)
    else:
        per_employer = (
            select(
                EmployerDayStat.employer_id,
                func.sum(EmployerDayStat.workers).label("workers"),
                func.sum(EmployerDayStat.poor_workers).label("poor"),
            )
            .where(
                EmployerDayStat.day <= on,
                EmployerDayStat.employer_id.in_(select(Employer.id).where(employer_where)),
            )
            .group_by(EmployerDayStat.employer_id)
            .subquery()
        )
    workers = func.coalesce(per_employer.c.workers, 0)
    poor = func.coalesce(per_employer.c.poor, 0)
    return (
        select(
            Employer.id.label("employer_id"),
            Employer.region_code.label("region_code"),
            Employer.kind.label("kind"),
            workers.label("workers"),
            poor.label("poor"),
            _flag(is_resumed(workers, Employer.is_marked_resumed)).label("resumed"),
            _flag(is_recognised(poor, min_poor)).label("recognised"),
        )
        .outerjoin(per_employer, per_employer.c.employer_id == Employer.id)
        .where(employer_where)
        .subquery()
    )


def _employer_figures(session, prefix, length, on, min_poor, row_for, direct=False) -> None:
    employer_in_region = and_(in_region(Employer.region_code, prefix), Employer.kind.in_(EMPLOYING_KINDS))
    per = employer_figures(on, employer_in_region, min_poor, direct=direct)
    key = func.substr(per.c.region_code, 1, length)
    query = select(
        key,
        per.c.kind,
        func.count(per.c.employer_id),
        func.sum(per.c.resumed),
        func.sum(per.c.recognised),
        func.sum(per.c.workers),
        func.sum(per.c.poor),
    ).group_by(key, per.c.kind)
    for code, kind, count, resumed, recognised, n_workers, n_poor in session.execute(query):
        row = row_for(code)
        if kind == EmployerKind.ENTERPRISE:
            row.enterprises, row.enterprises_resumed = count, int(resumed)
            row.enterprise_workers, row.enterprise_poor_workers = int(n_workers), int(n_poor)
        else:
            row.workshops, row.workshops_resumed = count, int(resumed)
            row.workshops_recognised = int(recognised)
            row.workshop_workers, row.workshop_poor_workers = int(n_workers), int(n_poor)


def _laborer_figures(session, prefix, length, on, row_for, months=(), lines=None) -> None:
    now, before = at_work_on(on), at_work_on(year_before(on))
    month_flags = [func.max(_flag(at_work_on(day))).label(f"m{i}") for i, day in enumerate(months)]
    # One row per laborer with a flag per figure, then sums per region: exact distinct counts
    # with a single grouping instead of one DISTINCT per figure.
    per_laborer = (
        select(
            Household.village_code.label("village_code"),
            func.max(_flag(_is_poor())).label("poor"),
            func.max(_flag(now)).label("now"),
            func.max(_flag(and_(now, Placement.opening_id.is_not(None)))).label("opening"),
            func.max(_flag(and_(now, Placement.batch_id.is_not(None)))).label("batch"),
            func.max(_flag(and_(now, Placement.welfare_post_id.is_not(None)))).label("welfare"),
            func.max(_flag(before)).label("before"),
            *month_flags,
        )
        .join(Household, Household.id == Placement.household_id)
        .where(
            in_region(Household.village_code, prefix),
            Placement.status.in_(AT_WORK_STATUSES),
            Placement.started_on <= max([on, *months]),
        )
        .group_by(Placement.laborer_id, Household.village_code)
        .subquery()
    )
    c = per_laborer.c
    key = func.substr(c.village_code, 1, length)
    query = select(
        key,
        func.sum(c.now),
        func.sum(c.opening),
        func.sum(c.batch),
        func.sum(c.welfare),
        func.sum(c.now * c.poor),
        func.sum(c.opening * c.poor),
        func.sum(c.batch * c.poor),
        func.sum(c.welfare * c.poor),
        func.sum(c.before * c.poor),
        *(func.sum(c[f"m{i}"] * c.poor) for i in range(len(months))),
    ).group_by(key)
    for code, *figures in session.execute(query):
        if months and lines is not None:
            lines[code] = [int(n or 0) for n in figures[9:]]
            figures = figures[:9]
        row = row_for(code)
        (
            row.laborers_at_work,
            row.at_work_opening,
            row.at_work_batch,
            row.at_work_welfare_post,
            row.poor_at_work,
            row.poor_at_work_opening,
            row.poor_at_work_batch,
            row.poor_at_work_welfare_post,
            row.poor_at_work_year_before,
        ) = (int(n or 0) for n in figures)


def household_without_work(on: date) -> ColumnElement[bool]:
    """Where-clause on Household: nobody in it is at work on `on` or employed by status."""
    return and_(
        ~exists().where(Placement.household_id == Household.id, at_work_on(on)),
        ~exists().where(Laborer.household_id == Household.id, Laborer.status.in_(WORKING_STATUSES)),
    )


def poor_household_without_work(on: date) -> ColumnElement[bool]:
    """Where-clause on Household: *a household still without work* on `on` as every figure, list and
    filter counts it (home pages, dashboard, reports, plans): a poor household nobody of which works."""
    return and_(Household.poverty_status.in_(POOR_STATUSES), household_without_work(on))


def households_without_work_by(
    session: Session, visible: ColumnElement[bool], within: str, length: int, on: date
) -> list[tuple[str, str, int]]:
    """``(code, name, count)`` of the poor households still without work on `on` in the region `within`
    (of those `visible` selects), per region whose code is `length` long, most first."""
    part = func.substr(Household.village_code, 1, length)
    counted = (
        select(part.label("code"), func.count(Household.id).label("n"))
        .where(visible, poor_household_without_work(on), in_region(Household.village_code, within))
        .group_by(part)
        .subquery()
    )
    query = select(Region.code, Region.name, counted.c.n).join(counted, counted.c.code == Region.code)
    return [(code, name, n) for code, name, n in session.execute(query.order_by(counted.c.n.desc(), Region.code))]


def _household_figures(session, prefix, length, on, row_for) -> None:
    key = func.substr(Household.village_code, 1, length)
    query = (
        select(key, func.count(Household.id), func.sum(_flag(household_without_work(on))))
        .where(in_region(Household.village_code, prefix), _is_poor())
        .group_by(key)
    )
    for code, count, without in session.execute(query):
        row = row_for(code)
        row.poor_households, row.households_without_work = count, int(without or 0)


def welfare_post_filled(on: date) -> ColumnElement[bool]:
    """Where-clause on WelfarePost: someone holds it at work on `on`."""
    return exists().where(Placement.welfare_post_id == WelfarePost.id, at_work_on(on))


def _welfare_figures(session, prefix, length, on, row_for) -> None:
    key = func.substr(WelfarePost.region_code, 1, length)
    query = (
        select(key, func.count(WelfarePost.id), func.sum(_flag(welfare_post_filled(on))))
        .where(in_region(WelfarePost.region_code, prefix))
        .group_by(key)
    )
    for code, count, filled in session.execute(query):
        row = row_for(code)
        row.welfare_posts, row.welfare_posts_filled = count, int(filled or 0)


def _region(session: Session, code: str) -> Region:
    region = session.get(Region, code) if code.isdigit() else None
    if region is None:
        raise NotFoundError.of("region", code)
    return region


def region_stats(
    session: Session,
    region_code: str,
    on: date,
    min_poor: int = DEFAULT_MIN_POOR,
    direct: bool = False,
) -> RegionStats:
    """Every figure of one region (province, city, county, township or village) on a day."""
    region = _region(session, region_code)
    found = _grouped(session, region_code, len(region_code), on, min_poor, direct=direct)
    stats = found.get(region_code) or RegionStats(region_code=region_code, on=on)
    stats.region_name = region.name
    return stats


def children_stats(
    session: Session,
    region_code: str,
    on: date,
    min_poor: int = DEFAULT_MIN_POOR,
    direct: bool = False,
) -> list[RegionStats]:
    """One row per child region (all of them, even empty), in code order, for drill-down.

    Records placed on the region itself rather than on a child (a county-level labor agency seen
    from its county) form a last row whose code is the region's own, so the rows always add up.
    """
    return overview(session, region_code, on, (), min_poor, direct)[1]


def overview(
    session: Session,
    region_code: str,
    on: date,
    months: Sequence[date],
    min_poor: int = DEFAULT_MIN_POOR,
    direct: bool = False,
) -> tuple[RegionStats, list[RegionStats], list[tuple[date, int]]]:
    """The dashboard's figures in one set of grouped queries: region, children, time line.

    The region's figures are the sum of its children's, which partition it (`children_stats`).
    """
    region = _region(session, region_code)
    length = child_length(region_code) or len(region_code)
    lines: dict[str, list[int]] = {}
    found = _grouped(session, region_code, length, on, min_poor, months, lines, direct)
    total = RegionStats(region_code=region_code, on=on, region_name=region.name)
    line = [0] * len(months)
    for code, row in found.items():
        total.add(row)
        line = [a + b for a, b in zip(line, lines.get(code, [0] * len(months)), strict=True)]
    if length == len(region_code):
        return total, [], list(zip(months, line, strict=True))
    names = session.execute(
        select(Region.code, Region.name).where(Region.parent_code == region_code).order_by(Region.code)
    ).all()
    children = []
    for code, name in names:
        row = found.pop(code) if code in found else RegionStats(region_code=code, on=on)
        row.region_name = name
        children.append(row)
    if found:
        rest = RegionStats(region_code=region_code, on=on)
        for row in found.values():
            rest.add(row)
        children.append(rest)
    return total, children, list(zip(months, line, strict=True))


def month_ends(last: date, count: int = 12) -> list[date]:
    """The last day of each of the `count` months up to `last`'s month; `last` itself for its own."""
    days = [last]
    year, month = last.year, last.month
    for _ in range(count - 1):
        first = date(year, month, 1)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        days.append(date.fromordinal(first.toordinal() - 1))
    return sorted(days)


#: What the landing page counts (`registered_counts`), by name.
REGISTERED = {
    "households": Household,
    "laborers": Laborer,
    "employers": Employer,
    "openings": Opening,
    "batches": TransportBatch,
    "welfare_posts": WelfarePost,
    "placements": Placement,
}
#: Employers follow no data version: counted in the versions' own statement (a small table).
_EMPLOYERS = {"employers": select(func.count(Employer.id)).scalar_subquery()}
#: The data versions the counts follow (not the accounts: a login changes no count).
_COUNTED_BY = (versions.TARGETS, versions.HOLDINGS, versions.LABORERS)
#: The last counts per database, with the stamps they were counted at.
_counted: dict[str, tuple[dict[str, int], dict[str, int]]] = {}


def registered_counts(session: Session) -> dict[str, int]:
    """How many of each record the database holds: the landing page's first look, open to anyone.

    Counting a province's million laborers and placements takes about a tenth of a second, so the counts
    are kept per database until the data versions (`web.services.versions`) say that a household, a
    laborer, a target or a placement changed, or the number of employers did: one statement on a visit
    in between. Nothing is kept before the versions have first moved (changes written around jiuye).
    The versions are read first, so a kept count is never older than the versions it is kept under.
    """
    read = versions.current(session, **_EMPLOYERS)
    stamps = {name: read[name] for name in (*_COUNTED_BY, *_EMPLOYERS)}
    url = str(session.get_bind().engine.url)
    kept = _counted.get(url)
    if kept is not None and kept[0] == stamps:
        return kept[1]
    counts = {name: session.scalar(select(func.count()).select_from(model)) or 0 for name, model in REGISTERED.items()}
    if all(stamps[scope] for scope in _COUNTED_BY):
        _counted[url] = (stamps, counts)
    return counts
