"""The Daning County (大宁县, 141030) demo: real townships, synthetic villages and people.

Everything is drawn from one `random.Random(random_seed)`, so a seed always gives the same demo.
Positions of villages (and of Daning's townships, which the gazetteer places at the county seat)
are synthesised around their parent and marked `synthetic`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matcher.types import DEFAULT_CONFIG
from seed.answers import seed_answers
from seed.coords import jitter
from seed.outcomes import seed_checkins
from seed.people import chinese_name, phone, resident_id
from seed.regions import ensure_regions
from seed.transport import seed_after_departure
from seed.watch import seed_watch
from seed.welfare_months import seed_welfare_months
from web import clock
from web.errors import AlreadySeededError
from web.models import (
    Employer,
    Household,
    Laborer,
    LaborerStatus,
    Opening,
    PickupPoint,
    Placement,
    PlacementEvent,
    PositionSource,
    PovertyStatus,
    Region,
    TransportBatch,
    User,
    WelfarePost,
    WorkArea,
)
from web.services.accounts import create_user

#: The codes the demo draws from, in the order of their weights below.
_POVERTY = [status.value for status in PovertyStatus]
_WORK_AREAS = [area.value for area in WorkArea]
_LABORER_STATUSES = [status.value for status in LaborerStatus]

COUNTY = "141030"
#: Past placements with check-ins (seed.outcomes): enough for `jiuye learn evaluate` to say something.
DEMO_HISTORY = 1_500
ANGU = "安古村"


@dataclass(frozen=True)
class DemoLogin:
    """A demo account, printed by `jiuye serve`."""

    role: str
    username: str
    password: str
    description: str


DEMO_LOGINS = [
    DemoLogin("cadre", "cadre", "cadre-demo-2020", "安古村等村的村干部 / village cadre of 安古村 and neighbours"),
    DemoLogin("employer", "employer", "employer-demo-2020", "安古村手套扶贫车间 / the glove-packing workshop"),
    DemoLogin("office", "office", "office-demo-2020", "大宁县扶贫办 / Daning County poverty alleviation office"),
]

#: Village names per township (synthetic apart from 安古村, which the seed article names).
VILLAGES = {
    "昕水镇": ["安古村", "白村", "罗曲村", "葛口村", "麻束村", "南堡村", "城关村"],
    "曲峨镇": ["曲峨村", "白家坡村", "乐堂村", "楼底村", "上庄村", "回头村"],
    "太古镇": ["太古村", "坦达村", "下岭村", "岭上村", "贺家庄村", "茹古村"],
    "三多乡": ["三多村", "南山村", "堡子村", "徐家垛村", "东庄村"],
    "太德乡": ["太德村", "义亭村", "道教村", "牛家山村", "尧堡村"],
}

JOB_TYPES = [
    "packaging",
    "sewing",
    "food_processing",
    "handicraft",
    "farming",
    "construction",
    "assembly",
    "cleaning",
    "care",
]
SKILLS = ["sewing_machine", "forklift", "cooking", "electrician", "driving"]

WORKSHOPS = [
    # (name, village, job_type, title, demand, pay_type, pay_cents, flexible, slots, min_age, max_age)
    ("安古村手套扶贫车间", "安古村", "packaging", "一次性手套分拣包装", "light", "piece", 6000, True, 30, 18, 70),
    ("白村服装扶贫车间", "白村", "sewing", "服装缝纫", "light", "piece", 8000, True, 15, 18, 65),
    ("罗曲村手工艺车间", "罗曲村", "handicraft", "布艺手工", "light", "piece", 5000, True, 12, 18, 75),
    ("曲峨村食品扶贫车间", "曲峨村", "food_processing", "小米杂粮包装", "light", "daily", 7000, True, 20, 18, 68),
    ("乐堂村编织车间", "乐堂村", "handicraft", "草编", "light", "piece", 4500, True, 10, 18, 75),
    ("太古村核桃加工车间", "太古村", "food_processing", "核桃剥壳分拣", "light", "piece", 5500, True, 18, 18, 70),
    ("三多村电子线束车间", "三多村", "assembly", "线束组装", "moderate", "daily", 9000, False, 15, 18, 55),
    ("太德村香菇种植基地", "太德村", "farming", "香菇采摘", "moderate", "daily", 8000, True, 20, 18, 65),
    ("坦达村养殖合作社", "坦达村", "farming", "养殖场饲养员", "heavy", "monthly", 300000, False, 6, 20, 55),
]
ENTERPRISES = [
    (
        "大宁县宏达建材有限公司",
        "城关村",
        "construction",
        "建材厂普工",
        "heavy",
        "daily",
        15000,
        False,
        20,
        20,
        50,
        "enterprise",
    ),
    (
        "大宁县众鑫农业科技公司",
        "南堡村",
        "farming",
        "大棚蔬菜管理",
        "moderate",
        "monthly",
        280000,
        False,
        15,
        18,
        60,
        "enterprise",
    ),
    (
        "昕水镇物业保洁公司",
        "城关村",
        "cleaning",
        "小区保洁",
        "light",
        "monthly",
        200000,
        True,
        10,
        18,
        65,
        "enterprise",
    ),
    (
        "大宁县家政服务中心",
        "城关村",
        "care",
        "养老护理员",
        "moderate",
        "monthly",
        320000,
        False,
        8,
        25,
        58,
        "enterprise",
    ),
    (
        "大宁县劳务派遣公司",
        "城关村",
        "construction",
        "县城工地小工",
        "heavy",
        "daily",
        16000,
        False,
        12,
        20,
        55,
        "labor_agency",
    ),
    (
        "临汾顺通劳务公司",
        "葛口村",
        "assembly",
        "包装流水线",
        "moderate",
        "daily",
        11000,
        False,
        10,
        18,
        50,
        "labor_agency",
    ),
]
BATCHES = [
    # (employer, destination, job_type, title, demand, seats, min_age, max_age, monthly pay)
    ("太原富士康科技园", "太原市", "assembly", "电子装配点对点专车", "moderate", 45, 18, 45, 450000),
    ("北京城建物业集团", "北京市", "cleaning", "物业保洁点对点专列", "light", 40, 25, 58, 400000),
    ("天津滨海食品有限公司", "天津市", "food_processing", "食品加工点对点专车", "moderate", 35, 18, 50, 420000),
    ("苏州昆山电子有限公司", "江苏省苏州市", "assembly", "电子厂点对点专车", "moderate", 50, 18, 40, 500000),
]
WELFARE_TYPES = [
    ("cleaner", "村级保洁员", "light"),
    ("road_keeper", "护路员", "moderate"),
    ("forest_ranger", "护林员", "moderate"),
    ("water_keeper", "管水员", "light"),
    ("patrol", "治安巡逻员", "light"),
    ("elder_carer", "孤寡老人护理员", "light"),
]


def is_seeded(session: Session) -> bool:
    """True when the demo's county already has households or the demo users exist."""
    households = session.scalar(select(func.count(Household.id)).where(Household.village_code.startswith(COUNTY)))
    users = session.scalar(select(func.count(User.id)).where(User.username.in_([d.username for d in DEMO_LOGINS])))
    return bool(households or users)


def _age_weights(rng: random.Random) -> int:
    """An age drawn from Daning's rural labor force: many aged 50–70."""
    bracket = rng.choices([(18, 30), (30, 45), (45, 55), (55, 65), (65, 75)], weights=[8, 17, 25, 32, 18])[0]
    return rng.randint(*bracket)


def _birth_on(age: int, today: date, rng: random.Random) -> date:
    """A birth date giving exactly `age` years on `today`."""
    latest = date(today.year - age, today.month, min(today.day, 28))
    return latest - timedelta(days=rng.randrange(365))


def _ability(age: int, rng: random.Random) -> str:
    weights = [50, 30, 15, 5] if age < 50 else [20, 30, 35, 15] if age < 65 else [5, 20, 50, 25]
    return rng.choices(["full", "moderate", "light", "none"], weights=weights)[0]


def seed_demo(session: Session, random_seed: int = 2020, today: date | None = None) -> dict[str, int]:
    """Build the Daning County demo in one transaction (flush only); refuse if already there."""
    if is_seeded(session):
        raise AlreadySeededError("the Daning County demo is already in the database")
    rng = random.Random(random_seed)
    today = today or clock.today()
    ensure_regions(session)
    session.flush()

    county = session.get_one(Region, COUNTY)  # ensure_regions wrote it
    villages = _synthesise_villages(session, county, rng)
    households, laborers = _people(session, villages, today, rng)
    employers, openings = _employers(session, villages, today, rng)
    batches = _batches(session, county, villages, today, rng)
    posts = _welfare_posts(session, villages, today, rng)
    _users(session, villages, employers)
    working = _existing_placements(session, laborers, openings, posts, today, rng)
    attendance = seed_welfare_months(session, villages, posts, openings, today, rng)
    history = seed_answers(session, laborers, openings, posts, today, rng)
    session.flush()
    after = seed_after_departure(session, county, today, rng)
    watched = seed_watch(session, laborers, openings, posts, today, rng)
    past = seed_checkins(session, DEMO_HISTORY, DEFAULT_CONFIG, today, random_seed)
    return {
        **history,
        **watched,
        "villages": len(villages),
        "households": len(households),
        "laborers": len(laborers),
        "employers": len(employers),
        "openings": len(openings),
        "batches": len(batches),
        "welfare_posts": len(posts),
        "placements": working,
        "attendance_months": attendance,
        **after,
        "past_placements": past,
    }


def _synthesise_villages(session: Session, county: Region, rng: random.Random) -> dict[str, Region]:
    """Give Daning's townships a synthetic point around the seat and add their villages."""
    townships = session.scalars(select(Region).where(Region.parent_code == county.code).order_by(Region.code)).all()
    villages: dict[str, Region] = {}
    for township in townships:
        if township.name != "昕水镇":  # 昕水镇 is the seat's own town
            township.lat, township.lon = jitter(county.lat, county.lon, 18.0, rng)
            township.position_source = PositionSource.SYNTHETIC
        for number, name in enumerate(VILLAGES.get(township.name, []), start=201):
            lat, lon = jitter(township.lat, township.lon, 6.0, rng)
            village = Region(
                code=f"{township.code}{number:03d}",
                name=name,
                level="village",
                parent_code=township.code,
                lat=lat,
                lon=lon,
                position_source="synthetic",
            )
            session.add(village)
            villages[name] = village
    session.flush()
    return villages


def _people(session, villages, today, rng):
    households: list[Household] = []
    laborers: list[Laborer] = []
    target_laborers = 2000
    village_list = list(villages.values())
    while len(laborers) < target_laborers:
        village = rng.choice(village_list)
        poverty = rng.choices(_POVERTY, weights=[45, 12, 43])[0]
        lat, lon = jitter(village.lat, village.lon, 1.0, rng)
        members = rng.choices([1, 2, 3], weights=[35, 45, 20])[0]
        head_sex = rng.choice("MF")
        household = Household(
            code=f"{village.code}-{len(households) + 1:05d}",
            village_code=village.code,
            head_name=chinese_name(head_sex, rng),
            poverty_status=poverty,
            lat=lat,
            lon=lon,
            position_source="synthetic",
        )
        session.add(household)
        households.append(household)
        for _ in range(members):
            sex = rng.choices("FM", weights=[56, 44])[0]
            age = _age_weights(rng)
            birth_on = _birth_on(age, today, rng)
            ability = _ability(age, rng)
            work_area = rng.choices(_WORK_AREAS, weights=[58, 17, 25])[0] if age < 60 else "local"
            status = rng.choices(_LABORER_STATUSES, weights=[62, 18, 12, 8])[0]
            laborer = Laborer(
                household=household,
                name=chinese_name(sex, rng),
                id_number="",
                birth_on=birth_on,
                sex=sex,
                phone=phone(rng),
                physical_ability=ability,
                skills=rng.sample(SKILLS, k=rng.choices([0, 1, 2], weights=[70, 25, 5])[0]),
                work_area=work_area,
                max_commute_km=rng.choice([3.0, 5.0, 10.0, 10.0, 15.0, 20.0]),
                job_types=rng.sample(JOB_TYPES, k=rng.randint(0, 3)),
                pay_type=rng.choice([None, "piece", "daily", "monthly"]),
                needs_flexible_hours=sex == "F" and rng.random() < 0.45 or age >= 65 and rng.random() < 0.5,
                status=status,
                lat=lat,
                lon=lon,
                position_source="synthetic",
            )
            laborers.append(laborer)
    # ID numbers last, so that a collision can be redrawn without disturbing the other draws' order.
    seen: set[str] = set()
    for laborer in laborers:
        number = resident_id(COUNTY, laborer.birth_on, laborer.sex, rng)
        while number in seen:
            number = resident_id(COUNTY, laborer.birth_on, laborer.sex, rng)
        seen.add(number)
        laborer.id_number = number
    session.add_all(laborers)
    session.flush()
    return households, laborers


def _employers(session, villages, today, rng):
    employers, openings = [], []
    rows = [(*w, "workshop") for w in WORKSHOPS] + list(ENTERPRISES)
    for (
        name,
        village_name,
        job_type,
        title,
        demand,
        pay_type,
        pay_cents,
        flexible,
        slots,
        min_age,
        max_age,
        kind,
    ) in rows:
        village = villages[village_name]
        lat, lon = jitter(village.lat, village.lon, 0.5, rng)
        employer = Employer(
            name=name,
            kind=kind,
            region_code=village.code,
            contact_name=chinese_name(rng.choice("MF"), rng),
            phone=phone(rng),
            lat=lat,
            lon=lon,
            position_source="synthetic",
            is_marked_resumed=kind == "workshop",
        )
        session.add(employer)
        employers.append(employer)
        opening = Opening(
            employer=employer,
            title=title,
            job_type=job_type,
            slots=slots,
            min_age=min_age,
            max_age=max_age,
            physical_demand=demand,
            skills=[],
            pay_type=pay_type,
            pay_cents=pay_cents,
            is_flexible_hours=flexible,
            start_on=today + timedelta(days=rng.randint(3, 20)),
            status="open",
            region_code=village.code,
            lat=lat,
            lon=lon,
            position_source="synthetic",
        )
        session.add(opening)
        openings.append(opening)
        if kind != "workshop" and rng.random() < 0.6:  # some employers post a second opening
            extra = Opening(
                employer=employer,
                title=f"{title}（夜班）" if not flexible else f"{title}（临时）",
                job_type=job_type,
                slots=max(2, slots // 3),
                min_age=min_age,
                max_age=max_age,
                physical_demand=demand,
                skills=["forklift"] if job_type == "construction" else [],
                pay_type=pay_type,
                pay_cents=pay_cents,
                is_flexible_hours=flexible,
                start_on=today + timedelta(days=rng.randint(3, 30)),
                status="open",
                region_code=village.code,
                lat=lat,
                lon=lon,
                position_source="synthetic",
            )
            session.add(extra)
            openings.append(extra)
    session.flush()
    return employers, openings


def _batches(session, county, villages, today, rng):
    batches = []
    towns = session.scalars(select(Region).where(Region.parent_code == county.code).order_by(Region.code)).all()
    for name, destination, job_type, title, demand, seats, min_age, max_age, pay in BATCHES:
        employer = Employer(
            name=name,
            kind="enterprise",
            region_code=county.code,
            lat=county.lat,
            lon=county.lon,
            position_source="county_seat",
            phone=phone(rng),
            is_marked_resumed=True,
        )
        departs = datetime.combine(today + timedelta(days=rng.randint(7, 25)), time(0, 30), tzinfo=UTC)
        batch = TransportBatch(
            employer=employer,
            title=title,
            destination=destination,
            job_type=job_type,
            departs_at=departs,
            seats=seats,
            min_age=min_age,
            max_age=max_age,
            physical_demand=demand,
            skills=[],
            pay_type="monthly",
            pay_cents=pay,
            status="planning",
            region_code=county.code,
        )
        for town in rng.sample(towns, k=rng.randint(2, 3)):
            batch.pickup_points.append(
                PickupPoint(
                    name=f"{town.name}政府门口",
                    region_code=town.code,
                    lat=town.lat,
                    lon=town.lon,
                    position_source=town.position_source,
                )
            )
        session.add(batch)
        batches.append(batch)
    session.flush()
    return batches


def _welfare_posts(session, villages, today, rng):
    posts = []
    village_list = list(villages.values())
    for index in range(60):
        village = village_list[index % len(village_list)]
        post_type, title, demand = rng.choice(WELFARE_TYPES)
        lat, lon = jitter(village.lat, village.lon, 0.8, rng)
        post = WelfarePost(
            post_type=post_type,
            title=f"{village.name}{title}",
            region_code=village.code,
            slots=1,
            min_age=18,
            max_age=rng.choice([65, 70, 75]),
            physical_demand=demand,
            stipend_cents=rng.choice([50000, 60000, 80000]),
            term_start_on=today,
            term_end_on=today + timedelta(days=365),
            lat=lat,
            lon=lon,
            position_source="synthetic",
        )
        session.add(post)
        posts.append(post)
    session.flush()
    return posts


def _users(session, villages, employers):
    logins = {d.role: d for d in DEMO_LOGINS}
    create_user(
        session,
        "cadre",
        logins["cadre"].password,
        "cadre",
        "安古村 李书记",
        village_codes=[villages[n].code for n in ("安古村", "白村", "罗曲村")],
        phone="13935700123",
    )
    create_user(
        session, "employer", logins["employer"].password, "employer", "手套车间 王经理", employer_id=employers[0].id
    )
    create_user(session, "office", logins["office"].password, "office", "大宁县扶贫办", region_code=COUNTY)


def _existing_placements(session, laborers, openings, posts, today, rng) -> int:
    """Some of the employed already work at the demo's workshops, and some hold welfare posts."""
    employed = [lab for lab in laborers if lab.status == "employed"]
    rng.shuffle(employed)
    count = 0
    workshop_openings = [o for o in openings if o.employer.kind == "workshop"]
    for laborer in employed[:60]:
        opening = rng.choice(workshop_openings)
        started = today - timedelta(days=rng.randint(30, 400))
        session.add(
            Placement(
                laborer_id=laborer.id,
                household_id=laborer.household_id,
                opening_id=opening.id,
                status="working",
                started_on=started,
                score=None,
                events=[PlacementEvent(to_status="working", note="seeded")],
            )
        )
        count += 1
    held: set[int] = set()
    for post in posts[:12]:
        candidates = [lab for lab in employed[60:] if lab.household_id not in held and lab.household.is_poor]
        if not candidates:
            break
        laborer = candidates[0]
        held.add(laborer.household_id)
        employed.remove(laborer)
        session.add(
            Placement(
                laborer_id=laborer.id,
                household_id=laborer.household_id,
                welfare_post_id=post.id,
                status="working",
                started_on=today - timedelta(days=rng.randint(30, 300)),
                events=[PlacementEvent(to_status="working", note="seeded")],
            )
        )
        count += 1
    # The opening's slots count what is held; make room so that seeded placements never overbook.
    session.flush()
    for opening in workshop_openings:
        held_slots = session.scalar(select(func.count(Placement.id)).where(Placement.opening_id == opening.id))
        if held_slots:
            session.execute(update(Opening).where(Opening.id == opening.id).values(slots=opening.slots + held_slots))
    return count
