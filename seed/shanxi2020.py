"""The Shanxi 2020 scenario: province-wide records whose figures, computed by jiuye, are the article's.

The seed article (DESIGN §1) reports, for the end of June 2020:

* 410 leading enterprises, all resumed, employing 40,081 workers of whom 19,698 are poor;
* 968 poverty-alleviation workshops, 966 resumed, employing 52,419 workers of whom 20,756 are poor;
* 873,800 poor laborers back at work, up 6.8 % on the year before.

Nothing here stores those figures: the scenario writes laborers, households, employers, openings,
batches, welfare posts and dated placements such that `web.services.stats` *computes* them. A
`--scale` below 1 writes a proportionally smaller scenario whose targets are
``round(article × scale)`` (see `Targets.at_scale`), reproduced exactly too.

How the year before is built: of the poor laborers at work on 30 June 2019, some stay at work
(group A), some leave before 30 June 2020 (group B, seeking again); group C starts after 30 June
2019. Every point-to-point batch departed in spring 2020 (group C), and a tenth of group A at labor
agencies paused over the Spring Festival / epidemic weeks (an ended placement, then a new one), which
the dashboard's time line shows. A laborer never has two placements at work on the same day.

Speed: rows are built with ids assigned here (the million households, laborers and placements as
tuples, written column by column) and written by `web.services.bulk` (executemany on SQLite, COPY on
PostgreSQL) inside the caller's transaction (one transaction: all or nothing); the statistics
summaries are built at the end.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from stdnum.cn import ric

from seed.coords import jitter
from seed.people import chinese_name, id_region, phone
from seed.regions import ensure_regions
from web.errors import AlreadySeededError
from web.models import (
    POOR_STATUSES,
    Base,
    Employer,
    EmployerDayStat,
    Household,
    Laborer,
    Opening,
    PickupPoint,
    Placement,
    PovertyStatus,
    Region,
    RegionDayStat,
    TransportBatch,
    User,
    WelfarePost,
)
from web.services import versions
from web.services.accounts import create_user
from web.services.bulk import bulk_insert, bulk_insert_columns
from web.services.summaries import refresh_summaries

#: Registered poor, monitored: the codes the poor households are drawn from (85 : 15).
_POOR_CODES = tuple(status.value for status in POOR_STATUSES)

#: The day the article's figures describe, and the same day a year before.
REPORT_ON = date(2020, 6, 30)
YEAR_BEFORE_ON = date(2019, 6, 30)
#: The article's figures (scale 1).
ARTICLE = {
    "enterprises": 410,
    "enterprises_resumed": 410,
    "enterprise_workers": 40_081,
    "enterprise_poor_workers": 19_698,
    "workshops": 968,
    "workshops_resumed": 966,
    "workshop_workers": 52_419,
    "workshop_poor_workers": 20_756,
    "poor_at_work": 873_800,
}
ARTICLE_CHANGE_PCT = Decimal("6.8")
#: Channels the article does not break down; plausible shares of the rest, documented here.
BATCH_PASSENGERS = 60_000  # point-to-point passengers, spring 2020
WELFARE_HOLDERS = 60_000  # public welfare posts held by poor laborers
UNFILLED_WELFARE_SHARE = 0.05  # extra posts nobody holds yet
LEFT_BEFORE_SHARE = 0.04  # group B: of those at work a year before, left since
SEEKING_POOR_SHARE = 0.05  # poor laborers without any placement, per poor laborer at work
SEEKING_NON_POOR_SHARE = 0.3  # non-poor seekers, per non-poor worker
PAUSED_SHARE = 0.10  # group A agency workers who paused over the epidemic weeks
SEATS_PER_BATCH = 45
VILLAGES_PER_TOWNSHIP = 3
AGENCIES_PER_COUNTY = 2
WORKSHOP_FEW_POOR_SHARE = 0.06  # resumed workshops with fewer poor workers than recognition needs
HOUSEHOLD_PREFIX = "SX20-"
WELFARE_TITLES = (
    ("cleaner", "保洁员"),
    ("road_keeper", "护路员"),
    ("forest_ranger", "护林员"),
    ("water_keeper", "管水员"),
    ("patrol", "巡逻员"),
    ("elder_carer", "孤寡老人护理员"),
)
SCENARIO_LOGIN = (
    "shanxi",
    "shanxi-office-2020",
    "山西省扶贫办 / Shanxi poverty alleviation office",
)
#: Ages of the rural labor force, many aged 45-65 (a table, drawn uniformly).
AGES = tuple(range(18, 30)) + 2 * tuple(range(30, 45)) + 3 * tuple(range(45, 66)) + tuple(range(66, 75))
ABILITIES = ("full", "full", "moderate", "light")
WORK_AREAS = ("local", "migrant", "any")


def change_pct(now: int, before: int) -> Decimal | None:
    """Year-on-year change in percent, rounded half-up to one decimal; None without a base."""
    if not before:
        return None
    return (Decimal(now - before) * 100 / Decimal(before)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def year_before_for(now: int, pct: Decimal = ARTICLE_CHANGE_PCT) -> int:
    """The base closest to now / (1 + pct) whose rounded change is exactly pct."""
    guess = round(now / (1 + float(pct) / 100))
    for delta in sorted(range(-50, 51), key=abs):
        if guess + delta > 0 and change_pct(now, guess + delta) == pct:
            return guess + delta
    raise ValueError(f"no base gives {pct} % for {now}")


@dataclass(frozen=True)
class Targets:
    """The figures a scenario of a given scale must reproduce."""

    enterprises: int
    enterprises_resumed: int
    enterprise_workers: int
    enterprise_poor_workers: int
    workshops: int
    workshops_resumed: int
    workshop_workers: int
    workshop_poor_workers: int
    poor_at_work: int
    poor_at_work_year_before: int
    batch_passengers: int
    welfare_holders: int

    @classmethod
    def at_scale(cls, scale: float) -> Targets:
        """round(article × scale) for every figure; the year before follows from the 6.8 %."""
        if not 0 < scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        figures = {name: max(1, round(value * scale)) for name, value in ARTICLE.items()}
        poor = figures["poor_at_work"]
        return cls(
            **figures,
            poor_at_work_year_before=year_before_for(poor),
            batch_passengers=round(BATCH_PASSENGERS * scale),
            welfare_holders=round(WELFARE_HOLDERS * scale),
        )

    @property
    def change_pct(self) -> Decimal | None:
        """The year-on-year change these targets give."""
        return change_pct(self.poor_at_work, self.poor_at_work_year_before)


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split total into integers proportional to weights that sum to total (largest remainder)."""
    if total < 0 or not weights:
        raise ValueError("need a non-negative total and at least one weight")
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    parts = [int(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: parts[i] - shares[i])
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def is_seeded(session: Session) -> bool:
    """True when any household or employer exists: the figures need an otherwise empty database."""
    return bool(session.scalar(select(func.count(Household.id))) or session.scalar(select(func.count(Employer.id))))


# --- people -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Work:
    """One placement to write for a laborer."""

    channel: str  # 'opening' | 'batch' | 'welfare_post'
    target_id: int
    started_on: date
    ended_on: date | None = None


@dataclass(slots=True)
class _Person:
    """A laborer before it has ids: home village, poverty and placements."""

    village: str
    is_poor: bool
    works: list[_Work]
    is_welfare_holder: bool = False


class _Builder:
    """Builds the scenario's rows in memory, then writes them in chunks."""

    def __init__(self, session: Session, targets: Targets, rng: random.Random) -> None:
        self.session = session
        if session.get_bind().dialect.name == "sqlite":
            # A bigger page cache for the million-row indexes (this connection only).
            session.execute(text("PRAGMA cache_size = -262144"))
        self.targets = targets
        self.rng = rng
        self.now = datetime(2020, 7, 1, tzinfo=UTC)
        self.people: list[_Person] = []
        self.employers: list[dict] = []
        self.openings: list[dict] = []
        self.batches: list[dict] = []
        self.pickups: list[dict] = []
        self.posts: list[dict] = []
        self.id_sequence: dict[tuple[str, int, str], int] = defaultdict(int)
        # Pools drawn once: synthetic names and numbers repeat across a million people anyway.
        self.names = {sex: [chinese_name(sex, rng) for _ in range(5000)] for sex in "MF"}
        self.phones = [phone(rng) for _ in range(50_000)]

    # geography
    def regions(self) -> None:
        """Counties with their townships' synthetic villages, jittered around the county seat."""
        ensure_regions(self.session)
        self.session.flush()
        rows = self.session.execute(select(Region.code, Region.level, Region.lat, Region.lon)).all()
        self.points = {code: (lat, lon) for code, _, lat, lon in rows}
        counties = sorted(code for code, level, _, _ in rows if level == "county")
        townships = sorted(code for code, level, _, _ in rows if level == "township")
        self.counties = counties
        self.townships_of: dict[str, list[str]] = defaultdict(list)
        for code in townships:
            self.townships_of[code[:6]].append(code)
        known = set(self.points)
        villages = []
        self.villages_of_township: dict[str, list[str]] = {}
        for township in townships:
            lat0, lon0 = self.points[township[:6]]
            codes = []
            for number in range(201, 201 + VILLAGES_PER_TOWNSHIP):
                code = f"{township}{number:03d}"
                lat, lon = jitter(lat0, lon0, 15.0, self.rng)
                if code in known:  # a village someone registered before keeps its point
                    lat, lon = self.points[code]
                    codes.append(code)
                    continue
                villages.append(
                    {
                        "code": code,
                        "name": f"第{number - 200}村",
                        "level": "village",
                        "parent_code": township,
                        "lat": lat,
                        "lon": lon,
                        "position_source": "synthetic",
                    }
                )
                self.points[code] = (lat, lon)
                codes.append(code)
            self.villages_of_township[township] = codes
        self.villages_of_county = {
            county: [v for t in self.townships_of[county] for v in self.villages_of_township[t]] for county in counties
        }
        _write(self.session, Region, villages)
        # Weights so that counties differ in size, the same for every run with this seed.
        self.county_weights = [self.rng.uniform(0.5, 1.5) for _ in counties]

    def _spread(self, total: int) -> list[tuple[str, int]]:
        """total split over the counties by their weights, as (county, count) pairs."""
        return list(zip(self.counties, apportion(total, self.county_weights), strict=True))

    def _village_in(self, county: str) -> str:
        return self.rng.choice(self.villages_of_county[county])

    # employers and what they offer
    def _employer(self, kind: str, region_code: str, name: str, is_marked_resumed: bool) -> int:
        lat, lon = jitter(*self.points[region_code], 1.0, self.rng)
        employer_id = len(self.employers) + 1
        self.employers.append(
            {
                "id": employer_id,
                "name": name,
                "kind": kind,
                "region_code": region_code,
                "contact_name": chinese_name(self.rng.choice("MF"), self.rng),
                "phone": phone(self.rng),
                "is_marked_resumed": is_marked_resumed,
                "lat": lat,
                "lon": lon,
                "position_source": "synthetic",
                "created_at": self.now,
            }
        )
        return employer_id

    def _opening(self, employer_id: int, slots: int, title: str, job_type: str, demand: str, flexible: bool) -> int:
        employer = self.employers[employer_id - 1]
        opening_id = len(self.openings) + 1
        self.openings.append(
            {
                "id": opening_id,
                "employer_id": employer_id,
                "title": title,
                "job_type": job_type,
                "slots": max(1, slots),
                "min_age": 18,
                "max_age": 70 if demand == "light" else 60,
                "physical_demand": demand,
                "skills": [],
                "pay_type": "piece" if flexible else "monthly",
                "pay_cents": 6000 if flexible else 300000,
                "is_flexible_hours": flexible,
                "start_on": date(2019, 1, 1),
                "status": "open",
                "region_code": employer["region_code"],
                "lat": employer["lat"],
                "lon": employer["lon"],
                "position_source": "synthetic",
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        return opening_id

    def _start_before(self) -> date:
        """A start day in group A/B's range: 2016 to the year before's day."""
        return date(2016, 1, 1) + timedelta(days=self.rng.randrange(1276))

    def _start_after(self) -> date:
        """A start day in group C's range: after the year before's day, up to the report day."""
        return YEAR_BEFORE_ON + timedelta(days=self.rng.randint(1, 366))

    def employers_and_workers(self) -> None:
        """Enterprises and workshops with their workers, exactly the article's counts."""
        t, rng = self.targets, self.rng
        for kind, count, resumed, workers, poor in (
            (
                "enterprise",
                t.enterprises,
                t.enterprises_resumed,
                t.enterprise_workers,
                t.enterprise_poor_workers,
            ),
            (
                "workshop",
                t.workshops,
                t.workshops_resumed,
                t.workshop_workers,
                t.workshop_poor_workers,
            ),
        ):
            ids: list[int] = []
            for county, n in self._spread(count):
                for _ in range(n):
                    if kind == "workshop":
                        region = self._village_in(county)
                        name = f"{county}扶贫车间{len(ids) + 1}"
                    else:
                        region = self._village_in(county)
                        name = f"山西龙头企业{len(ids) + 1}"
                    ids.append(self._employer(kind, region, name, is_marked_resumed=False))
            rng.shuffle(ids)
            active, idle = ids[:resumed], ids[resumed:]
            weights = [rng.uniform(0.3, 1.7) for _ in active]
            worker_counts = apportion(workers - len(active), weights)
            worker_counts = [n + 1 for n in worker_counts]  # every resumed employer has someone
            poor_counts = self._poor_split(kind, poor, worker_counts)
            for employer_id, n_workers, n_poor in zip(active, worker_counts, poor_counts, strict=True):
                employer = self.employers[employer_id - 1]
                if kind == "workshop":
                    opening = self._opening(employer_id, n_workers, "扶贫车间计件", "packaging", "light", True)
                    homes = self.villages_of_township[employer["region_code"][:9]]
                else:
                    opening = self._opening(
                        employer_id, n_workers, "龙头企业普工", "food_processing", "moderate", False
                    )
                    homes = self.villages_of_county[employer["region_code"][:6]]
                for index in range(n_workers):
                    self.people.append(
                        _Person(
                            rng.choice(homes),
                            index < n_poor,
                            [_Work("opening", opening, self._start_before())],
                        )
                    )
            for employer_id in idle:  # not resumed: an opening, nobody working there
                self._opening(employer_id, 10, "待复工岗位", "packaging", "light", True)

    def _poor_split(self, kind: str, poor: int, worker_counts: list[int]) -> list[int]:
        """Poor workers per employer, at most its workers; some workshops stay under recognition."""
        capacity = list(worker_counts)
        if kind == "workshop":
            few = max(1, round(len(capacity) * WORKSHOP_FEW_POOR_SHARE))
            for i in range(min(few, len(capacity))):
                capacity[i] = min(capacity[i], 2)
        parts = apportion(poor, capacity)
        # Largest remainder can exceed a capacity by one; move the surplus where there is room.
        surplus = 0
        for i, (part, cap) in enumerate(zip(parts, capacity, strict=True)):
            if part > cap:
                surplus += part - cap
                parts[i] = cap
        for i, cap in enumerate(worker_counts):
            if not surplus:
                break
            room = min(cap - parts[i], surplus)
            parts[i] += room
            surplus -= room
        if surplus or sum(parts) != poor:
            raise ValueError(f"cannot place {poor} poor workers at {kind}s")
        return parts

    def batches_and_passengers(self) -> None:
        """Point-to-point batches of spring 2020, organised by each county's labor agencies."""
        rng = self.rng
        self.agencies: dict[str, list[int]] = {}
        for county in self.counties:
            self.agencies[county] = [
                self._employer("labor_agency", county, f"{county}劳务公司{i + 1}", False)
                for i in range(AGENCIES_PER_COUNTY)
            ]
        for county, passengers in self._spread(self.targets.batch_passengers):
            while passengers > 0:
                seats_used = min(passengers, SEATS_PER_BATCH)
                passengers -= seats_used
                batch_id = len(self.batches) + 1
                departs = date(2020, 2, 20) + timedelta(days=rng.randrange(120))
                self.batches.append(
                    {
                        "id": batch_id,
                        "employer_id": rng.choice(self.agencies[county]),
                        "title": "点对点返岗专车",
                        "destination": rng.choice(["太原市", "北京市", "天津市", "江苏省苏州市"]),
                        "job_type": "assembly",
                        "departs_at": datetime(departs.year, departs.month, departs.day, 0, 30, tzinfo=UTC),
                        "seats": SEATS_PER_BATCH + 5,
                        "min_age": 18,
                        "max_age": 55,
                        "physical_demand": "moderate",
                        "skills": [],
                        "pay_type": "monthly",
                        "pay_cents": 450000,
                        "status": "departed",
                        "region_code": county,
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                )
                town = rng.choice(self.townships_of[county])
                lat, lon = self.points[town]
                self.pickups.append(
                    {
                        "id": len(self.pickups) + 1,
                        "batch_id": batch_id,
                        "name": f"{town}政府门口",
                        "region_code": town,
                        "lat": lat,
                        "lon": lon,
                        "position_source": "county_seat",
                    }
                )
                for _ in range(seats_used):
                    self.people.append(_Person(self._village_in(county), True, [_Work("batch", batch_id, departs)]))

    def welfare_posts_and_holders(self) -> None:
        """Public welfare posts in the villages, each held by a poor laborer of that village."""
        rng = self.rng
        held = self.targets.welfare_holders
        extra = round(held * UNFILLED_WELFARE_SHARE)
        for county, n in self._spread(held + extra):
            for _ in range(n):
                village = self._village_in(county)
                lat, lon = jitter(*self.points[village], 0.8, rng)
                post_id = len(self.posts) + 1
                post_type, title = rng.choice(WELFARE_TITLES)
                self.posts.append(
                    {
                        "id": post_id,
                        "post_type": post_type,
                        "title": f"{village}{title}",
                        "region_code": village,
                        "slots": 1,
                        "min_age": 18,
                        "max_age": 75,
                        "physical_demand": "light",
                        "stipend_cents": 50000,
                        "term_start_on": date(2019, 1, 1),
                        "term_end_on": None,
                        "status": "open",
                        "lat": lat,
                        "lon": lon,
                        "position_source": "synthetic",
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                )
        holders = rng.sample(range(len(self.posts)), held)
        for index in holders:
            post = self.posts[index]
            self.people.append(
                _Person(
                    post["region_code"],
                    True,
                    [_Work("welfare_post", post["id"], self._start_before())],
                    is_welfare_holder=True,
                )
            )

    def agency_workers(self) -> None:
        """The rest of the poor at work: with the counties' labor agencies."""
        t, rng = self.targets, self.rng
        placed = sum(1 for p in self.people if p.is_poor)
        rest = t.poor_at_work - placed
        if rest < 0:
            raise ValueError("the named channels already exceed the poor laborers at work")
        self.agency_openings: dict[str, int] = {}
        for county, n in self._spread(rest):
            opening = self._opening(
                rng.choice(self.agencies[county]),
                n + 1,
                "劳务输出",
                "construction",
                "moderate",
                False,
            )
            self.agency_openings[county] = opening
            for _ in range(n):
                self.people.append(
                    _Person(
                        self._village_in(county),
                        True,
                        [_Work("opening", opening, self._start_before())],
                    )
                )

    def year_before(self) -> None:
        """Split the poor at work into groups A (since before) and C (new); add group B (left)."""
        t, rng = self.targets, self.rng
        left = round(t.poor_at_work_year_before * LEFT_BEFORE_SHARE)
        new = t.poor_at_work - t.poor_at_work_year_before + left
        poor = [p for p in self.people if p.is_poor]
        batch = [p for p in poor if p.works[0].channel == "batch"]  # already dated spring 2020
        others = [p for p in poor if p.works[0].channel != "batch"]
        if len(batch) > new:
            raise ValueError("more batch passengers than laborers new since the year before")
        for person in rng.sample(others, new - len(batch)):
            person.works[0].started_on = self._start_after()
        # Group A at agencies: some paused over the epidemic weeks and came back.
        agency = set(self.agency_openings.values())
        for person in others:
            work = person.works[0]
            if (
                work.channel == "opening"
                and work.target_id in agency
                and work.started_on <= YEAR_BEFORE_ON
                and rng.random() < PAUSED_SHARE
            ):
                person.works = [
                    _Work(
                        "opening",
                        work.target_id,
                        work.started_on,
                        date(2020, 1, 20) + timedelta(days=rng.randrange(10)),
                    ),
                    _Work(
                        "opening",
                        work.target_id,
                        date(2020, 3, 1) + timedelta(days=rng.randrange(90)),
                    ),
                ]
        # Group B: at work a year before, left since (seeking again).
        for county, n in self._spread(left):
            opening = self.agency_openings[county]
            for _ in range(n):
                started = self._start_before()
                ended = YEAR_BEFORE_ON + timedelta(days=rng.randint(1, 360))
                self.people.append(_Person(self._village_in(county), True, [_Work("opening", opening, started, ended)]))

    def seekers(self) -> None:
        """Laborers with no placement at all: poor ones (households still without work) and others."""
        t = self.targets
        poor = round(t.poor_at_work * SEEKING_POOR_SHARE)
        non_poor_workers = sum(1 for p in self.people if not p.is_poor)
        non_poor = round(non_poor_workers * SEEKING_NON_POOR_SHARE)
        for is_poor, total in ((True, poor), (False, non_poor)):
            for county, n in self._spread(total):
                for _ in range(n):
                    self.people.append(_Person(self._village_in(county), is_poor, []))

    # writing
    def write(self) -> dict[str, int]:
        """Households, laborers and placements from self.people; then everything else."""
        rng = self.rng
        _write(self.session, Employer, self.employers)
        _write(self.session, Opening, self.openings)
        _write(self.session, TransportBatch, self.batches)
        _write(self.session, PickupPoint, self.pickups)
        _write(self.session, WelfarePost, self.posts)
        by_group: dict[tuple[str, bool], list[_Person]] = defaultdict(list)
        for person in self.people:
            by_group[(person.village, person.is_poor)].append(person)
        # Rows as tuples in the order of the _*_VARYING names; the columns every row shares are
        # added whole when written.
        households: list[tuple] = []
        laborers: list[tuple] = []
        placements: list[tuple] = []
        for (village, is_poor), members in sorted(by_group.items(), key=lambda item: item[0]):
            rng.shuffle(members)
            # One household, one welfare post: a holder always opens a household of its own.
            holders = [m for m in members if m.is_welfare_holder]
            others = [m for m in members if not m.is_welfare_holder]
            groups: list[list[_Person]] = []
            for holder in holders:
                size = rng.choices((0, 1, 2), weights=(40, 40, 20))[0]
                groups.append([holder, *others[:size]])
                del others[:size]
            while others:
                size = rng.choices((1, 2, 3), weights=(35, 45, 20))[0]
                groups.append(others[:size])
                del others[:size]
            for group in groups:
                household_id = len(households) + 1
                lat, lon = jitter(*self.points[village], 1.5, rng)
                status = rng.choices(_POOR_CODES, weights=(85, 15))[0] if is_poor else PovertyStatus.NON_POOR.value
                heads = self.names["M" if rng.random() < 0.6 else "F"]
                code = f"{HOUSEHOLD_PREFIX}{village}-{household_id:07d}"
                households.append((code, village, heads[int(rng.random() * len(heads))], status, lat, lon))
                for person in group:
                    laborer_id = len(laborers) + 1
                    laborers.append(self._laborer_row(household_id, village, person, lat, lon))
                    for work in person.works:
                        channel, ended = work.channel, work.ended_on
                        placements.append(
                            (
                                laborer_id,
                                household_id,
                                work.target_id if channel == "opening" else None,
                                work.target_id if channel == "batch" else None,
                                work.target_id if channel == "welfare_post" else None,
                                "ended" if ended else "working",
                                work.started_on,
                                ended,
                                "seeded: left" if ended else None,
                            )
                        )
        now, synthetic = self.now, "synthetic"
        shared = {"position_source": synthetic, "updated_at": now}
        _write_tuples(self.session, Household, _HOUSEHOLD_VARYING, households, created_at=now, **shared)
        _write_tuples(
            self.session,
            Laborer,
            _LABORER_VARYING,
            laborers,
            registered_at=now,
            max_commute_km=10.0,
            skills=[],
            job_types=[],
            pay_type=None,
            needs_flexible_hours=False,
            **shared,
        )
        _write_tuples(self.session, Placement, _PLACEMENT_VARYING, placements, created_at=now, updated_at=now)
        return {
            "villages": sum(len(v) for v in self.villages_of_county.values()),
            "households": len(households),
            "laborers": len(laborers),
            "employers": len(self.employers),
            "openings": len(self.openings),
            "batches": len(self.batches),
            "welfare_posts": len(self.posts),
            "placements": len(placements),
        }

    def _laborer_row(self, household_id: int, village: str, person: _Person, lat: float, lon: float) -> tuple:
        """A laborer's varying columns, in the order of _LABORER_VARYING."""
        # Draws go through rng.random() and small tables: a million laborers must stay cheap.
        draw = self.rng.random
        sex = "F" if draw() < 0.52 else "M"
        age = AGES[int(draw() * len(AGES))]
        birth_on = REPORT_ON - timedelta(days=365 * age + int(draw() * 365))
        id_number, birth_on = self._id_number(village[:6], birth_on, sex)
        working = any(w.ended_on is None for w in person.works)
        ability = "light" if age >= 60 else ABILITIES[int(draw() * len(ABILITIES))]
        names = self.names[sex]
        return (
            household_id,
            names[int(draw() * len(names))],
            id_number,
            birth_on,
            sex,
            self.phones[int(draw() * len(self.phones))],
            ability,
            "local" if age >= 55 or person.is_welfare_holder else WORK_AREAS[int(draw() * 3)],
            "employed" if working else "seeking",
            lat,
            lon,
        )

    def _id_number(self, county: str, birth_on: date, sex: str) -> tuple[str, date]:
        """A unique valid number and the birth date it carries: birth place, date, free sequence."""
        while True:
            region = id_region(county, birth_on.year)
            key = (region, birth_on.toordinal(), sex)
            index = self.id_sequence[key]
            if index < 499:  # sequences 001-998, odd for men, even for women
                self.id_sequence[key] = index + 1
                sequence = 2 * index + (1 if sex == "M" else 2)
                body = f"{region}{birth_on:%Y%m%d}{sequence:03d}"
                return body + ric.calc_check_digit(body + "0"), birth_on
            birth_on -= timedelta(days=1)  # this day is full: the day before

    def login(self) -> None:
        username, password, display = SCENARIO_LOGIN
        if self.session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(self.session, username, password, "office", display, region_code="14")


#: The columns that differ from row to row, in the order of the builder's row tuples.
_HOUSEHOLD_VARYING = ("code", "village_code", "head_name", "poverty_status", "lat", "lon")
_LABORER_VARYING = (
    "household_id", "name", "id_number", "birth_on", "sex", "phone", "physical_ability", "work_area",
    "status", "lat", "lon",
)  # fmt: skip
_PLACEMENT_VARYING = (
    "laborer_id", "household_id", "opening_id", "batch_id", "welfare_post_id", "status", "started_on",
    "ended_on", "end_reason",
)  # fmt: skip


def _write(session: Session, model: type[Base], rows: Iterable[dict]) -> None:
    """Bulk-write rows with the ids they carry, in the session's transaction (web.services.bulk)."""
    bulk_insert(session, model.__table__, rows)


def _write_tuples(session: Session, model: type[Base], names: Sequence[str], rows: list[tuple], **shared: Any) -> None:
    """Bulk-write row tuples (columns in the order of names) as rows 1..n, every row also taking
    the shared values: column by column, so a million rows are never a million dicts."""
    count = len(rows)
    columns: dict[str, Sequence] = {"id": range(1, count + 1)}
    columns.update(zip(names, zip(*rows, strict=True) if rows else [()] * len(names), strict=True))
    columns.update((name, [value] * count) for name, value in shared.items())
    bulk_insert_columns(session, model.__table__, columns)


def seed_shanxi_2020(session: Session, scale: float = 1.0, random_seed: int = 2020) -> dict[str, int]:
    """Write the scenario in the caller's transaction (flush only); refuse on a non-empty database."""
    if is_seeded(session):
        raise AlreadySeededError(
            "the database already holds households (the scenario or the demo); "
            "the Shanxi 2020 scenario needs one of its own for its figures to add up"
        )
    builder = _Builder(session, Targets.at_scale(scale), random.Random(random_seed))
    builder.regions()
    builder.employers_and_workers()
    builder.batches_and_passengers()
    builder.welfare_posts_and_holders()
    builder.agency_workers()
    builder.year_before()
    builder.seekers()
    counts = builder.write()
    builder.login()
    finish_bulk_seed(session)
    return counts


def finish_bulk_seed(session: Session) -> None:
    """After a bulk seed: the data versions moved on (the rows were written around the ORM, which would
    have moved them: a running server's rankers and kept figures must see the new records), fresh
    planner statistics, without which SQLite picks poor plans (the summaries' own reads among them:
    twice as slow), then the dashboard's summaries from the records just written
    (web.services.summaries) and the statistics of their tables."""
    session.flush()
    versions.bump(session, versions.SCOPES)
    session.execute(text("ANALYZE"))
    refresh_summaries(session)
    for table in (RegionDayStat, EmployerDayStat):
        session.execute(text(f"ANALYZE {table.__tablename__}"))
