"""A province to measure on: `jiuye seed scale --laborers N` writes an open Shanxi-wide market (DESIGN §6, §7).

What it holds at N = 1,000,000 registered laborers (every figure scales linearly with N, see `Sizes`):
households of one to four laborers in synthetic villages under Shanxi's real townships (gazetteer,
WGS-84), 16 % of the laborers seeking work with varied ability, work area, preferences and commuting
limits, the rest at work (through jiuye or on their own) or not seeking; 968 workshops and 410
enterprises whose running openings employ the article's 52,419 and 40,081 workers and whose new
openings, starting in the coming weeks, offer 95,000 free slots; 520 point-to-point batches departing
in the coming weeks from pickup points in their county (beside the departed ones whose passengers are
at work); 21,000 open public welfare posts in villages and townships (beside the 60,000 held, one per
household). So a plan on it has laborers to place and free capacity everywhere: unlike the Shanxi
2020 scenario, which describes a past day.

Everything is drawn from one seed (numpy's generator for the columns, `random.Random` for the name
and phone pools), so a seed gives the same market apart from dates, which follow the day it runs.

Speed: columns are drawn with numpy and written column by column by
`web.services.bulk.bulk_insert_columns` (executemany on SQLite, COPY on PostgreSQL) in the caller's
transaction, all or nothing; the dashboard summaries are built from the records at the end.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Table, exists, select, text
from sqlalchemy.orm import Session

from matcher.types import DEFAULT_CONFIG, WORK_JOB_TYPES
from seed.coords import jitter_many
from seed.demo import SKILLS
from seed.outcomes import seed_checkins
from seed.people import chinese_name, id_region, phone
from seed.regions import ensure_regions
from seed.shanxi2020 import AGES, apportion, finish_bulk_seed
from web.errors import AlreadySeededError
from web.models import (
    Employer,
    Household,
    Laborer,
    LaborerStatus,
    Opening,
    PickupPoint,
    Placement,
    PovertyStatus,
    Region,
    TransportBatch,
    User,
    WelfarePost,
)
from web.services.accounts import create_user
from web.services.bulk import bulk_insert, bulk_insert_columns

#: The figures at one million registered laborers; `Sizes.for_laborers` scales them.
AT_MILLION = {
    "seeking": 160_000,
    "workshops": 968,
    "enterprises": 410,
    "open_slots": 95_000,
    "future_batches": 520,
    "open_posts": 21_000,
    "workshop_workers": 52_419,
    "enterprise_workers": 40_081,
    "batch_passengers": 40_000,
    "welfare_holders": 60_000,
}
MILLION = 1_000_000
#: Villages per township at a million laborers (~80 laborers a village); at least one.
VILLAGES_PER_TOWNSHIP = 10
#: Share of the new openings' free slots at workshops (the rest at enterprises).
WORKSHOP_SLOT_SHARE = 0.3
HOUSEHOLD_SIZES, HOUSEHOLD_SIZE_WEIGHTS = (1, 2, 3, 4), (25, 40, 25, 10)
POVERTY = tuple(status.value for status in PovertyStatus)  # registered_poor, monitored, non_poor
POVERTY_WEIGHTS = (55, 12, 33)
#: What the laborers neither seeking nor placed through jiuye do.
OTHER_STATUSES = tuple(s.value for s in LaborerStatus if s is not LaborerStatus.SEEKING)
OTHER_STATUS_WEIGHTS = tuple({"employed": 40, "self_employed": 10, "not_seeking": 50}[s] for s in OTHER_STATUSES)
ABILITIES = ("full", "moderate", "light", "none")
#: Ability weights by age band (< 45, 45-59, 60+): older laborers can do less.
ABILITY_WEIGHTS = ((55, 30, 12, 3), (35, 35, 25, 5), (10, 25, 50, 15))
COMMUTES_KM, COMMUTE_WEIGHTS = (3.0, 5.0, 10.0, 15.0, 20.0, 30.0), (5, 15, 45, 20, 10, 5)
PAY_TYPES, PAY_TYPE_WEIGHTS = (None, "piece", "daily", "monthly", "hourly"), (50, 15, 15, 15, 5)
#: Workers of running openings and batch passengers are drawn from laborers younger than this.
WORKER_MAX_AGE = 55
SEATS_PER_DEPARTED_BATCH = 45
HOUSEHOLD_PREFIX = "SC-"
SCALE_LOGIN = ("province", "province-scale-2020", "山西省扶贫办（规模数据） / Shanxi office (scale data)")
#: (title, job type, physical demand, pay type) of the work offered.
WORKSHOP_WORK = (
    ("手套分拣包装", "packaging", "light", "piece"),
    ("服装缝纫", "sewing", "light", "piece"),
    ("布艺手工", "handicraft", "light", "piece"),
    ("小米杂粮包装", "food_processing", "light", "daily"),
    ("电子线束组装", "assembly", "moderate", "daily"),
    ("香菇采摘", "farming", "moderate", "daily"),
)
ENTERPRISE_WORK = (
    ("食品加工普工", "food_processing", "moderate", "monthly"),
    ("建材厂普工", "construction", "heavy", "daily"),
    ("电子装配工", "assembly", "moderate", "monthly"),
    ("仓储物流分拣", "logistics", "moderate", "monthly"),
    ("物业保洁", "cleaning", "light", "monthly"),
    ("养老护理员", "care", "moderate", "monthly"),
    ("大棚蔬菜管理", "farming", "moderate", "hourly"),
)
PAY_CENTS = {"piece": (4000, 9000), "daily": (8000, 16000), "monthly": (220000, 500000), "hourly": (1500, 2500)}
MAX_AGES = {"light": (60, 65, 70, 75, None), "moderate": (50, 55, 60), "heavy": (45, 50, 55)}
DESTINATIONS = (
    ("太原市", "assembly", "电子装配"),
    ("北京市", "cleaning", "物业保洁"),
    ("天津市", "food_processing", "食品加工"),
    ("江苏省苏州市", "assembly", "电子厂"),
    ("浙江省宁波市", "logistics", "仓储物流"),
    ("广东省东莞市", "assembly", "电子厂"),
    ("上海市", "construction", "建筑工地"),
)
WELFARE_POSTS = (
    ("cleaner", "村级保洁员", "light"),
    ("road_keeper", "护路员", "moderate"),
    ("forest_ranger", "护林员", "moderate"),
    ("water_keeper", "管水员", "light"),
    ("patrol", "治安巡逻员", "light"),
    ("elder_carer", "孤寡老人护理员", "light"),
)
#: The tables this seed writes (regions aside): any row in one of them and it refuses.
SEEDED_MODELS = (Household, Laborer, Employer, Opening, TransportBatch, WelfarePost, Placement)
_CHECK_WEIGHTS = np.array([pow(2, 16 - i, 11) for i in range(17)])  # 13^k mod 11 = 2^k mod 11
_ROLE_SEEKING, _ROLE_OTHER, _ROLE_HOLDER, _ROLE_WORKER, _ROLE_PASSENGER, _ROLE_NONE = range(6)


@dataclass(frozen=True)
class Sizes:
    """How much a market of `laborers` registered laborers holds (`AT_MILLION` × laborers / 10⁶)."""

    laborers: int
    seeking: int
    workshops: int
    enterprises: int
    open_slots: int
    future_batches: int
    open_posts: int
    workshop_workers: int
    enterprise_workers: int
    batch_passengers: int
    welfare_holders: int

    @classmethod
    def for_laborers(cls, laborers: int) -> Sizes:
        """Every figure of AT_MILLION scaled to `laborers`, rounded, at least one."""
        if laborers < 1:
            raise ValueError(f"laborers must be at least 1, got {laborers}")
        share = laborers / MILLION
        return cls(laborers, **{name: max(1, round(n * share)) for name, n in AT_MILLION.items()})


def holds_records(session: Session) -> bool:
    """True when any of the tables this seed writes (regions aside) already has a row."""
    return any(session.scalar(select(exists().select_from(model))) for model in SEEDED_MODELS)


def seed_scale(session: Session, laborers: int, random_seed: int = 2020, now: datetime | None = None) -> dict[str, int]:
    """Write the market in the caller's transaction (flush only); refuse on a database with records."""
    if holds_records(session):
        raise AlreadySeededError(
            "the database already holds households, laborers, employers or postings; "
            "scale data needs a database of its own"
        )
    market = _Market(session, Sizes.for_laborers(laborers), random_seed, now or datetime.now(UTC))
    market.regions()
    market.people()
    market.welfare_holders()
    market.employers_and_openings()
    market.batches()
    market.welfare_posts()
    market.statuses()
    counts = market.write()
    market.login()
    session.flush()
    counts["past_placements"] = seed_checkins(
        session, max(1_000, laborers // 50), DEFAULT_CONFIG, market.now.date(), random_seed
    )
    finish_bulk_seed(session)
    return counts


def resident_ids(counties: np.ndarray, birth_on: np.ndarray, is_male: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Unique valid resident ID numbers and the birth dates they carry (datetime64[D]).

    Place code: the one in force in the county (6-digit code) in the birth year
    (`seed.people.id_region`); sequence: 001-998, odd for men, even for women, numbered within
    (place, day, sex); a day whose sequences are used up moves the person a day earlier. The check
    digit is ISO 7064 MOD 11-2, as `stdnum.cn.ric` computes it.
    """
    birth_on = birth_on.astype("datetime64[D]").copy()
    county_codes, county_index = np.unique(counties, return_inverse=True)

    def places_of(rows: np.ndarray) -> np.ndarray:
        years = birth_on[rows].astype("datetime64[Y]").astype(int) + 1970
        pairs, inverse = np.unique(county_index[rows] * 10_000 + years, return_inverse=True)
        codes = [int(id_region(str(county_codes[p // 10_000]), int(p % 10_000))) for p in pairs.tolist()]
        return np.array(codes, dtype=np.int64)[inverse]

    places = places_of(np.arange(len(birth_on)))
    while True:
        days = birth_on.astype(np.int64)
        key = (places * 100_000 + (days + 50_000)) * 2 + is_male
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.r_[0, np.flatnonzero(sorted_key[1:] != sorted_key[:-1]) + 1]
        rank = np.empty(len(key), dtype=np.int64)
        rank[order] = np.arange(len(key)) - np.repeat(starts, np.diff(np.r_[starts, len(key)]))
        full = np.flatnonzero(rank >= 499)
        if not len(full):
            break
        birth_on[full] -= 1  # that day's sequences are used up: the day before
        places[full] = places_of(full)
    sequence = 2 * rank + np.where(is_male, 1, 2)
    years = birth_on.astype("datetime64[Y]")
    months = birth_on.astype("datetime64[M]")
    yyyymmdd = (
        (years.astype(np.int64) + 1970) * 10_000
        + (months - years.astype("datetime64[M]")).astype(np.int64) * 100
        + 100
        + (birth_on - months.astype("datetime64[D]")).astype(np.int64)
        + 1
    )
    body = (places * 100_000_000 + yyyymmdd) * 1000 + sequence
    digits = (body[:, None] // 10 ** np.arange(16, -1, -1, dtype=np.int64)) % 10
    check = (1 - 2 * (digits @ _CHECK_WEIGHTS)) % 11
    numbers = np.char.add(body.astype("U17"), np.array(list("0123456789X"))[check])
    return numbers.tolist(), birth_on


class _Market:
    """Draws the market's columns in memory, then writes them."""

    def __init__(self, session: Session, sizes: Sizes, random_seed: int, now: datetime) -> None:
        self.session = session
        if session.get_bind().dialect.name == "sqlite":
            # A page cache as big as the whole database (~450 MB at a million laborers), so that
            # the transaction's pages need not spill to the journal before the commit (this
            # connection only).
            session.execute(text("PRAGMA cache_size = -1048576"))
        self.sizes = sizes
        self.rng = np.random.default_rng(random_seed)
        self.now = now.astimezone(UTC)
        self.today = self.now.date()
        py = random.Random(random_seed)
        # Pools drawn once: synthetic names and numbers repeat across a million people anyway.
        self.names = {sex: np.array([chinese_name(sex, py) for _ in range(5000)]) for sex in "MF"}
        self.phones = np.array([phone(py) for _ in range(50_000)])
        self.rows: dict[type, list[dict]] = {
            model: [] for model in (Region, Employer, Opening, TransportBatch, PickupPoint, WelfarePost)
        }
        self.placements: list[tuple[int, str, int, date]] = []  # laborer index, channel, target id, start

    # -- geography --------------------------------------------------------------------------------
    def regions(self) -> None:
        """Real counties and townships (gazetteer); synthetic villages around their county seat."""
        ensure_regions(self.session)
        self.session.flush()
        rows = self.session.execute(select(Region.code, Region.name, Region.level, Region.lat, Region.lon)).all()
        self.points = {code: (lat, lon) for code, _, _, lat, lon in rows}
        self.region_names = {code: name for code, name, _, _, _ in rows}
        self.counties = sorted(code for code, _, level, _, _ in rows if level == "county")
        townships = sorted(code for code, _, level, _, _ in rows if level == "township")
        self.townships_of = {county: [t for t in townships if t[:6] == county] for county in self.counties}
        per_township = min(700, max(1, round(VILLAGES_PER_TOWNSHIP * self.sizes.laborers / MILLION)))
        codes = [f"{t}{number:03d}" for t in townships for number in range(201, 201 + per_township)]
        seats = np.array([self.points[code[:6]] for code in codes])
        lat, lon = jitter_many(seats[:, 0], seats[:, 1], 15.0, self.rng)
        for code, village_lat, village_lon in zip(codes, lat.tolist(), lon.tolist(), strict=True):
            if code in self.points:  # a village registered before keeps its point
                continue
            self.points[code] = (village_lat, village_lon)
            self.region_names[code] = f"{self.region_names[code[:9]]}第{int(code[9:]) - 200}村"
            self.rows[Region].append(
                {
                    "code": code,
                    "name": f"第{int(code[9:]) - 200}村",
                    "level": "village",
                    "parent_code": code[:9],
                    "lat": village_lat,
                    "lon": village_lon,
                    "position_source": "synthetic",
                }
            )
        self.villages = np.array(codes)
        self.village_points = np.array([self.points[code] for code in codes])
        self.village_county = np.searchsorted(self.counties, [code[:6] for code in codes])
        # Counties differ in size, the same for every run with this seed.
        self.county_weights = self.rng.uniform(0.5, 1.5, len(self.counties))

    # -- households and laborers -------------------------------------------------------------------
    def people(self) -> None:
        """Households in villages, laborers in households, with their own traits and preferences."""
        rng, n = self.rng, self.sizes.laborers
        sizes = rng.choice(HOUSEHOLD_SIZES, n, p=_p(HOUSEHOLD_SIZE_WEIGHTS))
        ends = np.cumsum(sizes)
        count = int(np.searchsorted(ends, n)) + 1  # households needed for n laborers
        sizes = sizes[:count]
        sizes[-1] -= ends[count - 1] - n
        weights = self.county_weights[self.village_county] * rng.uniform(0.5, 1.5, len(self.villages))
        village = np.sort(rng.choice(len(self.villages), count, p=weights / weights.sum()))
        self.household_village = village
        self.household_poverty = rng.choice(len(POVERTY), count, p=_p(POVERTY_WEIGHTS))
        centres = self.village_points[village]
        self.household_lat, self.household_lon = jitter_many(centres[:, 0], centres[:, 1], 1.5, rng)
        self.household_first = np.r_[0, ends[: count - 1]]
        self.household_of = np.repeat(np.arange(count), sizes)
        self.county_of = self.village_county[village][self.household_of]
        self.age = np.array(AGES)[rng.integers(0, len(AGES), n)]
        self.is_male = rng.random(n) < 0.48
        band = np.digitize(self.age, (45, 60))
        draws = rng.random(n)
        self.ability = np.empty(n, dtype=np.int8)
        for b, band_weights in enumerate(ABILITY_WEIGHTS):
            cumulative = np.cumsum(_p(band_weights))
            self.ability[band == b] = np.searchsorted(cumulative, draws[band == b], side="right")
        self.ability = np.minimum(self.ability, len(ABILITIES) - 1)
        older = self.age >= 55
        self.work_area = np.where(
            older,
            rng.choice(np.array(["local", "any"]), n, p=[0.8, 0.2]),
            rng.choice(np.array(["local", "migrant", "any"]), n, p=[0.45, 0.25, 0.3]),
        )
        self.role = np.full(n, _ROLE_NONE, dtype=np.int8)

    def welfare_holders(self) -> None:
        """Welfare-post holders first (one laborer of a poor household each, in a post of their
        village), so that no household holds two posts and no holder takes another job."""
        rng = self.rng
        poor = np.flatnonzero(self.household_poverty < 2)
        households = np.sort(rng.choice(poor, min(len(poor), self.sizes.welfare_holders), replace=False))
        laborers = self.household_first[households]
        self.role[laborers] = _ROLE_HOLDER
        starts = [self.today - timedelta(days=d) for d in rng.integers(30, 700, len(laborers)).tolist()]
        regions = self.villages[self.household_village[households]].tolist()
        first = self._posts(regions, [1] * len(regions), starts, 3 * 365)
        self.placements.extend(
            (laborer, "welfare_post", first + i, start)
            for i, (laborer, start) in enumerate(zip(laborers.tolist(), starts, strict=True))
        )

    # -- employers and their openings ----------------------------------------------------------------
    def _worker_pools(self) -> dict[int, list[int]]:
        """Per county, the laborers (shuffled) who may take a running job or a departed seat."""
        rng = self.rng
        free = np.flatnonzero((self.role == _ROLE_NONE) & (self.age < WORKER_MAX_AGE) & (self.ability <= 1))
        free = free[rng.permutation(len(free))]
        order = np.argsort(self.county_of[free], kind="stable")
        free = free[order]
        bounds = np.searchsorted(self.county_of[free], np.arange(len(self.counties) + 1))
        return {c: free[bounds[c] : bounds[c + 1]].tolist() for c in range(len(self.counties))}

    def _take(self, pools: dict[int, list[int]], county: int, k: int, role: int) -> list[int]:
        """Up to k laborers from the county's pool, given role."""
        pool = pools[county]
        taken = pool[len(pool) - min(k, len(pool)) :]
        del pool[len(pool) - len(taken) :]
        self.role[taken] = role
        return taken

    def _county_counts(self, total: int) -> list[int]:
        return apportion(total, self.county_weights.tolist())

    def _employer(self, kind: str, county: int, name: str, region: str, lat: float, lon: float) -> dict:
        rows = self.rows[Employer]
        row = {
            "id": len(rows) + 1,
            "name": name,
            "kind": kind,
            "region_code": region,
            "contact_name": str(self.names["M" if self.rng.random() < 0.6 else "F"][self.rng.integers(5000)]),
            "phone": str(self.phones[self.rng.integers(len(self.phones))]),
            "is_marked_resumed": False,
            "lat": lat,
            "lon": lon,
            "position_source": "synthetic",
            "created_at": self.now,
        }
        rows.append(row)
        row["_county"] = county
        return row

    def _opening(self, employer: dict, work: tuple, slots: int, start_on: date, status: str) -> int:
        rng = self.rng
        title, job_type, demand, pay_type = work
        low, high = PAY_CENTS[pay_type]
        is_workshop = employer["kind"] == "workshop"
        rows = self.rows[Opening]
        rows.append(
            {
                "id": len(rows) + 1,
                "employer_id": employer["id"],
                "title": title,
                "job_type": job_type,
                "slots": slots,
                "min_age": 16 if is_workshop and rng.random() < 0.2 else 18,
                "max_age": MAX_AGES[demand][rng.integers(len(MAX_AGES[demand]))],
                "physical_demand": demand,
                "skills": [SKILLS[rng.integers(len(SKILLS))]] if rng.random() < 0.05 else [],
                "pay_type": pay_type,
                "pay_cents": int(rng.integers(low, high + 1)) // 100 * 100,
                "is_flexible_hours": bool(rng.random() < (0.8 if is_workshop else 0.15)),
                "start_on": start_on,
                "status": status,
                "region_code": employer["region_code"],
                "lat": employer["lat"],
                "lon": employer["lon"],
                "position_source": "synthetic",
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        return len(rows)

    def employers_and_openings(self) -> None:
        """Workshops in villages and enterprises near the county seats: running openings with their
        workers from the county, and new openings starting in the coming weeks with free slots."""
        s, rng = self.sizes, self.rng
        self.pools = pools = self._worker_pools()
        open_slots = {
            "workshop": round(s.open_slots * WORKSHOP_SLOT_SHARE),
            "enterprise": s.open_slots - round(s.open_slots * WORKSHOP_SLOT_SHARE),
        }
        for kind, total, workers, works in (
            ("workshop", s.workshops, s.workshop_workers, WORKSHOP_WORK),
            ("enterprise", s.enterprises, s.enterprise_workers, ENTERPRISE_WORK),
        ):
            employers: list[dict[str, Any]] = []
            for county, n in enumerate(self._county_counts(total)):
                code = self.counties[county]
                for _ in range(n):
                    if kind == "workshop":
                        region = str(self.villages[rng.choice(np.flatnonzero(self.village_county == county))])
                        (lat,), (lon,) = jitter_many(*_one_centre(self.points[region]), 1.0, rng)
                        name = f"{self.region_names[region[:9]]}扶贫车间{len(employers) + 1}"
                    else:
                        region = self.townships_of[code][rng.integers(len(self.townships_of[code]))]
                        (lat,), (lon,) = jitter_many(*_one_centre(self.points[code]), 6.0, rng)
                        name = f"{self.region_names[code]}龙头企业{len(employers) + 1}"
                    employers.append(self._employer(kind, county, name, region, float(lat), float(lon)))
            weights = rng.uniform(0.3, 1.7, len(employers)).tolist()
            for employer, n_workers, n_free in zip(
                employers, apportion(workers, weights), apportion(open_slots[kind], weights), strict=True
            ):
                taken = self._take(pools, employer["_county"], n_workers, _ROLE_WORKER)
                if taken:
                    started = self.today - timedelta(days=int(rng.integers(200, 1000)))
                    work = works[rng.integers(len(works))]
                    opening = self._opening(employer, work, len(taken), started, "closed")
                    for laborer in taken:
                        days = int(rng.integers(0, (self.today - started).days - 7))
                        self.placements.append((laborer, "opening", opening, started + timedelta(days=days)))
                parts = int(rng.integers(1, 4))
                for part in apportion(max(1, n_free), rng.uniform(0.5, 1.5, parts).tolist()):
                    if part:
                        start_on = self.today + timedelta(days=int(rng.integers(3, 61)))
                        self._opening(employer, works[rng.integers(len(works))], part, start_on, "open")

    # -- transport batches ------------------------------------------------------------------------
    def batches(self) -> None:
        """Per county a labor agency: departed batches whose passengers are at work, and batches
        departing in the coming weeks (planning, or boarding in the next days) from its townships."""
        s, rng = self.sizes, self.rng
        agencies = [
            self._employer("labor_agency", c, f"{self.region_names[code]}劳务公司", code, *self.points[code])
            for c, code in enumerate(self.counties)
        ]
        for county, passengers in enumerate(self._county_counts(s.batch_passengers)):
            while passengers > 0:
                taken = self._take(self.pools, county, min(passengers, SEATS_PER_DEPARTED_BATCH), _ROLE_PASSENGER)
                passengers -= SEATS_PER_DEPARTED_BATCH
                if not taken:
                    break
                departs = datetime.combine(self.today - timedelta(days=int(rng.integers(20, 300))), time(0, 30), UTC)
                batch = self._batch(agencies[county], departs, SEATS_PER_DEPARTED_BATCH + 5, "departed")
                self.placements.extend((laborer, "batch", batch, departs.date()) for laborer in taken)
        for county, n in enumerate(self._county_counts(s.future_batches)):
            for _ in range(n):
                boarding = rng.random() < 0.2
                days = int(rng.integers(0, 3)) if boarding else int(rng.integers(3, 60))
                departs = datetime.combine(self.today + timedelta(days=days + 1), time(0, 30), UTC)
                seats = int(rng.integers(30, 56))
                self._batch(agencies[county], departs, seats, "boarding" if boarding else "planning")

    def _batch(self, agency: dict, departs_at: datetime, seats: int, status: str) -> int:
        rng = self.rng
        rows = self.rows[TransportBatch]
        batch_id = len(rows) + 1
        destination, job_type, work = DESTINATIONS[rng.integers(len(DESTINATIONS))]
        demand = ("light", "moderate", "heavy")[rng.choice(3, p=[0.2, 0.6, 0.2])]
        low, high = PAY_CENTS["monthly"]
        rows.append(
            {
                "id": batch_id,
                "employer_id": agency["id"],
                "title": f"{work}点对点专车",
                "destination": destination,
                "job_type": job_type,
                "departs_at": departs_at,
                "seats": seats,
                "min_age": 18,
                "max_age": int(rng.choice((45, 50, 55, 60))),
                "physical_demand": demand,
                "skills": [],
                "pay_type": "monthly",
                "pay_cents": int(rng.integers(low, high + 1)) // 100 * 100,
                "status": status,
                "region_code": agency["region_code"],
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        townships = self.townships_of[agency["region_code"]]
        stops = rng.choice(len(townships), min(len(townships), int(rng.integers(1, 5))), replace=False)
        points = np.array([self.points[townships[i]] for i in stops])
        lat, lon = jitter_many(points[:, 0], points[:, 1], 3.0, rng)
        pickups = self.rows[PickupPoint]
        for i, stop_lat, stop_lon in zip(stops.tolist(), lat.tolist(), lon.tolist(), strict=True):
            pickups.append(
                {
                    "id": len(pickups) + 1,
                    "batch_id": batch_id,
                    "name": f"{self.region_names[townships[i]]}集合点",
                    "region_code": townships[i],
                    "lat": stop_lat,
                    "lon": stop_lon,
                    "position_source": "synthetic",
                }
            )
        return batch_id

    # -- welfare posts ----------------------------------------------------------------------------
    def welfare_posts(self) -> None:
        """Open posts nobody holds yet: most in villages, some at the township."""
        rng, n = self.rng, self.sizes.open_posts
        regions = self.villages[rng.choice(len(self.villages), n)].tolist()
        at_township = (rng.random(n) < 0.15).tolist()
        regions = [code[:9] if up else code for code, up in zip(regions, at_township, strict=True)]
        slots = np.where(rng.random(n) < 0.1, 2, 1).tolist()
        starts = [self.today + timedelta(days=d) for d in rng.integers(0, 31, n).tolist()]
        self._posts(regions, slots, starts, 365)

    def _posts(self, regions: list[str], slots: list[int], starts: list[date], term_days: int) -> int:
        """Welfare posts in the given villages or townships, one a region; returns the first id."""
        rng, n = self.rng, len(regions)
        centres = np.array([self.points[code] for code in regions]).reshape(n, 2)
        radius = np.where([len(code) == 12 for code in regions], 0.8, 3.0)
        lat, lon = jitter_many(centres[:, 0], centres[:, 1], radius, rng)
        kinds = rng.integers(0, len(WELFARE_POSTS), n).tolist()
        stipends = rng.choice((40000, 50000, 60000, 80000), n).tolist()
        rows = self.rows[WelfarePost]
        first = len(rows) + 1
        for i, (code, kind) in enumerate(zip(regions, kinds, strict=True)):
            post_type, title, demand = WELFARE_POSTS[kind]
            rows.append(
                {
                    "id": first + i,
                    "post_type": post_type,
                    "title": f"{self.region_names[code]}{title}",
                    "region_code": code,
                    "slots": slots[i],
                    "min_age": 18,
                    "max_age": 75 if demand == "light" else 65,
                    "physical_demand": demand,
                    "stipend_cents": stipends[i],
                    "term_start_on": starts[i],
                    "term_end_on": starts[i] + timedelta(days=term_days - 1),
                    "status": "open",
                    "lat": float(lat[i]),
                    "lon": float(lon[i]),
                    "position_source": "synthetic",
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
        return first

    # -- who does what ----------------------------------------------------------------------------
    def statuses(self) -> None:
        """Exactly `seeking` of the laborers not placed through jiuye seek work; the rest are
        employed, self-employed or not seeking."""
        rng = self.rng
        rest = np.flatnonzero(self.role == _ROLE_NONE)
        seeking = rng.choice(rest, min(len(rest), self.sizes.seeking), replace=False)
        self.role[seeking] = _ROLE_SEEKING
        self.role[self.role == _ROLE_NONE] = _ROLE_OTHER
        other = self.role == _ROLE_OTHER
        self.status = np.full(self.sizes.laborers, "employed", dtype="U13")
        self.status[self.role == _ROLE_SEEKING] = "seeking"
        self.status[other] = rng.choice(np.array(OTHER_STATUSES), int(other.sum()), p=_p(OTHER_STATUS_WEIGHTS))
        self.work_area[self.role == _ROLE_HOLDER] = "local"

    # -- writing ----------------------------------------------------------------------------------
    def write(self) -> dict[str, int]:
        """Every table, parents first; the big ones column by column."""
        rng, n = self.rng, self.sizes.laborers
        for model in (Region, Employer, Opening, TransportBatch, PickupPoint, WelfarePost):
            rows = [{k: v for k, v in row.items() if not k.startswith("_")} for row in self.rows[model]]
            bulk_insert(self.session, model.__table__, rows)
        count = len(self.household_village)
        laborer_names = np.where(
            self.is_male, self.names["M"][rng.integers(0, 5000, n)], self.names["F"][rng.integers(0, 5000, n)]
        )
        villages = self.villages[self.household_village]
        household_ids = np.arange(1, count + 1)
        _write_columns(
            self.session,
            Household.__table__,
            {
                "id": household_ids.tolist(),
                "code": np.char.add(
                    np.char.add(HOUSEHOLD_PREFIX, np.char.add(villages, "-")),
                    np.char.zfill(household_ids.astype("U7"), 7),
                ).tolist(),
                "village_code": villages.tolist(),
                "head_name": laborer_names[self.household_first].tolist(),
                "poverty_status": np.array(POVERTY)[self.household_poverty].tolist(),
                "lat": self.household_lat.tolist(),
                "lon": self.household_lon.tolist(),
                "position_source": ["synthetic"] * count,
                "created_at": [self.now] * count,
                "updated_at": [self.now] * count,
            },
        )
        counties = np.array(self.counties)[self.county_of]
        birth_on = np.datetime64(self.today) - (
            np.round(self.age * 365.25).astype(int) + rng.integers(0, 365, n)
        ).astype("timedelta64[D]")
        id_numbers, birth_on = resident_ids(counties, birth_on, self.is_male)
        registered = [self.now - timedelta(days=d) for d in range(730)]
        _write_columns(
            self.session,
            Laborer.__table__,
            {
                "id": list(range(1, n + 1)),
                "household_id": (self.household_of + 1).tolist(),
                "name": laborer_names.tolist(),
                "id_number": id_numbers,
                "birth_on": birth_on.tolist(),
                "sex": np.where(self.is_male, "M", "F").tolist(),
                "phone": self.phones[rng.integers(0, len(self.phones), n)].tolist(),
                "physical_ability": np.array(ABILITIES)[self.ability].tolist(),
                "skills": _subsets(SKILLS, 0.05, n, rng),
                "work_area": self.work_area.tolist(),
                "max_commute_km": np.array(COMMUTES_KM)[
                    rng.choice(len(COMMUTES_KM), n, p=_p(COMMUTE_WEIGHTS))
                ].tolist(),
                "job_types": _subsets(WORK_JOB_TYPES, 0.12, n, rng),
                "pay_type": [PAY_TYPES[i] for i in rng.choice(len(PAY_TYPES), n, p=_p(PAY_TYPE_WEIGHTS)).tolist()],
                "needs_flexible_hours": (rng.random(n) < np.where(self.is_male, 0.1, 0.25)).tolist(),
                "status": self.status.tolist(),
                "lat": self.household_lat[self.household_of].tolist(),
                "lon": self.household_lon[self.household_of].tolist(),
                "position_source": ["synthetic"] * n,
                "registered_at": [registered[d] for d in rng.integers(0, len(registered), n).tolist()],
                "updated_at": [self.now] * n,
            },
        )
        placements = sorted(self.placements)
        m = len(placements)
        laborer_index = np.array([p[0] for p in placements], dtype=np.int64)
        targets = {
            channel: [t if c == channel else None for _, c, t, _ in placements]
            for channel in ("opening", "batch", "welfare_post")
        }
        _write_columns(
            self.session,
            Placement.__table__,
            {
                "id": list(range(1, m + 1)),
                "laborer_id": (laborer_index + 1).tolist(),
                "household_id": (self.household_of[laborer_index] + 1).tolist(),
                "opening_id": targets["opening"],
                "batch_id": targets["batch"],
                "welfare_post_id": targets["welfare_post"],
                "status": ["working"] * m,
                "started_on": [p[3] for p in placements],
                "created_at": [self.now] * m,
                "updated_at": [self.now] * m,
            },
        )
        future = sum(1 for row in self.rows[TransportBatch] if row["status"] != "departed")
        return {
            "villages": len(self.villages),
            "households": count,
            "laborers": n,
            "seeking": int((self.role == _ROLE_SEEKING).sum()),
            "employers": len(self.rows[Employer]),
            "openings": len(self.rows[Opening]),
            "open_slots": sum(row["slots"] for row in self.rows[Opening] if row["status"] == "open"),
            "batches": len(self.rows[TransportBatch]),
            "future_batches": future,
            "welfare_posts": len(self.rows[WelfarePost]),
            "placements": m,
        }

    def login(self) -> None:
        """The province office account that reads and plans on the scale data."""
        username, password, display = SCALE_LOGIN
        if self.session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(self.session, username, password, "office", display, region_code="14")


def _one_centre(point: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """One (lat, lon) centre as the one-element arrays `jitter_many` takes."""
    lat, lon = point
    return np.atleast_1d(lat), np.atleast_1d(lon)


def _p(weights) -> np.ndarray:
    """Weights as probabilities."""
    array = np.asarray(weights, dtype=float)
    return array / array.sum()


def _subsets(words: tuple[str, ...] | list[str], p_each: float, n: int, rng: np.random.Generator) -> list[list[str]]:
    """n subsets of words, each word in with probability p_each (one shared list per subset)."""
    bits = (rng.random((n, len(words))) < p_each) @ (1 << np.arange(len(words)))
    lists = [[w for i, w in enumerate(words) if mask >> i & 1] for mask in range(1 << len(words))]
    return [lists[mask] for mask in bits.tolist()]


def _write_columns(session: Session, table: Table, columns: dict[str, list]) -> None:
    bulk_insert_columns(session, table, columns)
