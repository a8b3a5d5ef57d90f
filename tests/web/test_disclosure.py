"""Masking that masks: nothing any role reads together rebuilds a resident ID number (issue 10).

The attack this guards against: a list showed `142633********9438` beside `1954-06-03`, and the
hidden eight digits are the birth date. Here every GET route is read as every role, and for every
laborer the reader is granted more than any page shows (the region code, the sex, the age) plus
whatever ID characters and birth date the answer holds; the valid ID numbers that still agree are
counted and must be more than one. The test is self-contained so that it also runs on old code.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from flask import current_app, g
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from stdnum.cn import ric

from tests.conftest import PASSWORD
from web.extensions import db
from web.models import AuditEvent, FollowUp, Placement, PlacementEvent, Plan
from web.services import post_requests
from web.services.accounts import audit
from web.services.uploads import save, upload_dir

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BIRTHS = [
    date(1955, 4, 1),
    date(1958, 11, 23),
    date(1963, 7, 9),
    date(1970, 2, 14),
    date(1976, 9, 30),
    date(1984, 12, 5),
    date(1991, 6, 18),
    date(1999, 1, 27),
]
REPORTS = [
    "households-without-work",
    "workshop-recognition",
    "batch-manifest",
    "welfare-roster",
    "placements-by-channel",
]
#: Routes that read one person's record on its own: an office or cadre sees the full number there.
SINGLE_RECORD = {"api_laborers.LaborerById", "cadre.laborer", "cadre.laborer_edit"}
NOT_READ = {"static", "hashed_static", "favicon", "api-docs.openapi_json", "main.set_language", "main.health"}
#: A masked ID number: 18 characters of digits, X and *, at least one of them *.
TOKEN = re.compile(r"(?<![0-9X*])[0-9X*]{18}(?![0-9X*])")


def _placement(laborer, status: str, **target) -> Placement:
    row = Placement(
        laborer_id=laborer.id,
        household_id=laborer.household_id,
        status=status,
        score=0.8,
        distance_km=2.345,
        **target,
        explanation={"factors": [{"name": "distance", "zh": "离家 2.3 公里", "en": "2.3 km from home"}]},
    )
    if status == "working":
        row.started_on = date.today() - timedelta(days=10)
    row.events.append(PlacementEvent(from_status=None, to_status=status))
    db.session.add(row)
    db.session.flush()
    return row


def _refused_rows() -> io.BytesIO:
    """A small workbook as an import's refused rows would be."""
    book = Workbook()
    book.active.append(["姓名", "错误"])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


@pytest.fixture
def county(factory):
    """Eight laborers of two villages with different birth dates, postings, and placements of each kind."""
    angu = factory.household()
    bai = factory.household("141030100202", poverty_status="non_poor")
    laborers = [
        factory.laborer(
            angu if i % 2 == 0 else bai,
            birth_on=born,
            sex="M" if i % 3 == 0 else "F",
            physical_ability="full",
            work_area="any",
            phone=f"1391111{i:04d}",
        )
        for i, born in enumerate(BIRTHS)
    ]
    employer = factory.employer()
    opening = factory.opening(employer, max_age=75, min_age=16)
    batch = factory.batch(employer, max_age=75, min_age=16)
    post = factory.welfare_post(max_age=75, min_age=16)
    placements = [
        _placement(laborers[0], "accepted", opening_id=opening.id),
        _placement(laborers[1], "offered", batch_id=batch.id),
        _placement(laborers[3], "accepted", batch_id=batch.id),
        _placement(laborers[2], "working", welfare_post_id=post.id),
    ]
    plan = Plan(region_code="141030", mode="greedy", status="queued")
    db.session.add(plan)
    follow_up = FollowUp(
        household_id=angu.id, reason="long_without_work", flagged_on=date(2026, 5, 4), due_on=date(2026, 5, 4)
    )
    db.session.add(follow_up)
    users = {
        "office": factory.user("office"),
        "cadre": factory.user("cadre", village_codes=["141030100201", "141030100202"]),
        "employer": factory.user("employer", employer_id=employer.id),
    }
    db.session.flush()
    request = post_requests.record_request(db.session, users["cadre"], laborers[1].id, note="申请公益岗位")
    imported = audit(  # the cadre's import of these people: its page names them, linked
        db.session,
        "import",
        user=users["cadre"],
        laborer_ids=[laborer.id for laborer in laborers],
        household_ids=[angu.id],
        rows=len(laborers),
        refused=0,
    )
    db.session.commit()
    refused, _ = save(upload_dir(current_app.instance_path), users["cadre"].id, _refused_rows(), ".xlsx")
    ids = {
        "event_id": imported.id,
        "token": refused,
        "laborer_id": laborers[0].id,
        "household_id": angu.id,
        "opening_id": opening.id,
        "batch_id": batch.id,
        "employer_id": employer.id,
        "post_id": post.id,
        "placement_id": placements[0].id,
        "plan_id": plan.id,
        "request_id": request.id,
        "follow_up_id": follow_up.id,
        "status": "closed",
        "to": "declined",
    }
    return {"laborers": laborers, "users": users, "ids": ids, "opening": opening, "batch": batch, "post": post}


@pytest.fixture
def readers(app, county, api_token):
    """role → (page client logged in through the form, API headers)."""
    made = {}
    for role, user in county["users"].items():
        pages = app.test_client()
        g.pop("_login_user", None)
        assert pages.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
        made[role] = (pages, api_token(user))
    return made


def _text(response) -> str:
    """Everything a person reads in an answer: the JSON or page, or every cell of an XLSX file."""
    if response.mimetype == XLSX:
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(
            str(v)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for v in row
            if v is not None
        )
    return response.get_data(as_text=True)


def _birth_shown(text: str, born: date) -> bool:
    return any(
        form in text
        for form in (born.isoformat(), f"{born:%Y%m%d}", f"{born:%Y/%m/%d}", f"{born.year}年{born.month}月{born.day}日")
    )


def _known_characters(text: str, number: str) -> dict[int, str]:
    """The characters of `number` that masked numbers in the text show (those agreeing with it)."""
    known: dict[int, str] = {}
    for token in TOKEN.findall(text):
        if "*" not in token:
            continue
        shown = {i: c for i, c in enumerate(token) if c != "*"}
        if all(number[i] == c for i, c in shown.items()):
            known.update(shown)
    return known


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def rebuilt(number: str, born: date, sex: str, known: dict[int, str], birth_known: bool) -> int:
    """How many valid ID numbers agree with the region, sex and age (always granted) and with what
    the answer shows (characters, birth date); counting stops at 2."""
    today = date.today()
    if birth_known:
        days = [born]
    else:
        age = _age_on(born, today)
        start = date(today.year - age - 1, today.month, 1) - timedelta(days=31)
        days = [start + timedelta(days=n) for n in range(430)]
        days = [d for d in days if _age_on(d, today) == age]
    found = 0
    for day in days:
        digits = f"{day:%Y%m%d}"
        if any(known.get(6 + i, c) != c for i, c in enumerate(digits)):
            continue
        for sequence in range(1 if sex == "M" else 0, 1000, 2):
            tail = f"{sequence:03d}"
            if any(known.get(14 + i, c) != c for i, c in enumerate(tail)):
                continue
            body = number[:6] + digits + tail
            if known.get(17, ric.calc_check_digit(body + "0")) != ric.calc_check_digit(body + "0"):
                continue
            found += 1
            if found > 1:
                return found
    return found


def _urls(app, county) -> list[tuple[str, str]]:
    """(endpoint, url) of every GET route, with the county's ids, and each report by name."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_READ:
            continue
        path = rule.rule
        names = [name for name in rule.arguments if name != "name"]
        for name in names:
            if name == "target_id":
                kind = {"openings": "opening_id", "batches": "batch_id", "welfare-posts": "post_id"}[path.split("/")[3]]
                value = county["ids"][kind]
            else:
                assert name in county["ids"], f"{rule.rule}: the disclosure sweep does not know <{name}>"
                value = county["ids"][name]
            path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
        if "name" in rule.arguments:
            found += [(rule.endpoint, path.replace("<name>", report)) for report in REPORTS]
        else:
            found.append((rule.endpoint, path))
    return found


def _read(readers, role: str, url: str):
    g.pop("_login_user", None)
    pages, headers = readers[role]
    return pages.get(url, headers=headers if url.startswith("/api/") else {})


def _assert_not_rebuildable(role: str, url: str, text: str, laborers) -> None:
    for laborer in laborers:
        number = laborer.id_number
        assert number not in text and number.lower() not in text, f"{role} {url} shows {number}"
        known = _known_characters(text, number)
        # A masked number keeps at most the first six characters and the last one.
        assert not set(known) - {0, 1, 2, 3, 4, 5, 17}, f"{role} {url} shows {known} of {number}"
        birth = _birth_shown(text, laborer.birth_on)
        if role == "employer":
            assert not known and not birth, f"{role} {url} shows ID characters or the birth date"
        count = rebuilt(number, laborer.birth_on, laborer.sex.value, known, birth)
        assert count > 1, f"{role} {url}: {number} is pinned down by what is shown"


@pytest.mark.parametrize("role", ["office", "cadre", "employer"])
def test_nothing_any_role_reads_rebuilds_an_id_number(app, county, readers, role):
    laborers = county["laborers"]
    read = 0
    for endpoint, url in _urls(app, county):
        if role != "employer" and endpoint in SINGLE_RECORD:
            continue  # one person's record on its own: the full number is theirs to see, audited
        response = _read(readers, role, url)
        assert response.status_code < 500, url
        if response.status_code != 200:
            continue
        read += 1
        _assert_not_rebuildable(role, url, _text(response), laborers)
    assert read >= 15


def test_the_api_list_shows_neither_birth_dates_nor_more_than_seven_id_characters(county, readers):
    for role in ("office", "cadre"):
        text = _text(_read(readers, role, "/api/v1/laborers?per_page=200"))
        _assert_not_rebuildable(role, "/api/v1/laborers", text, county["laborers"])


def test_an_import_preview_shows_the_sheet_masked(county, readers):
    laborers = county["laborers"]
    lines = ["户编号,姓名,身份证号,手机号,劳动能力,就业意向"]
    lines += [
        f"{laborer.household.code},复查{i},{laborer.id_number},13900000000,弱劳力,本地"
        for i, laborer in enumerate(laborers)
    ]
    pages, _ = readers["cadre"]
    g.pop("_login_user", None)
    response = pages.post(
        "/cadre/import",
        data={"upload": (io.BytesIO("\n".join(lines).encode()), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422  # every row is "already registered"
    _assert_not_rebuildable("cadre", "/cadre/import", _text(response), laborers)


def test_full_numbers_only_in_an_export_asked_for_and_that_export_is_audited(county, readers):
    laborers = county["laborers"]
    for role in ("office", "cadre"):
        masked = _text(_read(readers, role, "/reports/welfare-roster.xlsx"))
        full = _text(_read(readers, role, "/reports/welfare-roster.xlsx?full_ids=1"))
        assert laborers[2].id_number not in masked and laborers[2].id_number in full
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export_full_ids")).all()
    assert [e.user_id for e in events] == [county["users"]["office"].id, county["users"]["cadre"].id]
    assert all(e.detail["ids"] == [laborers[2].id] for e in events)
    # The employer's phone list: only for placements with it that were accepted.
    manifest = _text(_read(readers, "employer", f"/employer/batches/{county['batch'].id}/manifest.xlsx"))
    assert laborers[3].phone in manifest and laborers[1].phone not in manifest


# -- what employers learn from candidates (issue 10 part 2) -----------------------------------------


def _candidates(readers, role: str, opening_id: int, **args) -> dict:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    response = _read(readers, role, f"/api/v1/openings/{opening_id}/candidates?limit=20&{query}")
    assert response.status_code == 200, response.json
    return response.json


def test_employers_get_eligible_candidates_by_score_in_whole_km_from_the_village(app, factory, county, readers):
    opening = county["opening"]
    laborers = county["laborers"]
    # Two neighbours of one village, one at the village point and one 1.5 km away: an employer
    # is told the same whole-km distance for both, from the village point.
    far = laborers[4]
    far.lat += 0.0135
    # The registered-poor village's laborers want other work: by score alone the others come first.
    for laborer in laborers[0::2]:
        laborer.job_types, laborer.pay_type = ["assembly"], "monthly"
    db.session.commit()
    mine = _candidates(readers, "employer", opening.id, ineligible=50)
    assert mine["ineligible"] == []
    assert all(m["eligible"] and m["distance_km"] == int(m["distance_km"]) for m in mine["matches"])
    by_id = {m["laborer_id"]: m for m in mine["matches"]}
    assert by_id[far.id]["distance_km"] == by_id[laborers[6].id]["distance_km"]
    assert all(str(f["value"]) for m in mine["matches"] for f in m["factors"])
    # Score order only: the office's order puts the registered-poor village first, the employer's does not.
    scores = [m["score"] for m in mine["matches"]]
    assert scores == sorted(scores, reverse=True)
    office = _candidates(readers, "office", opening.id, ineligible=5)
    poor = {laborer.id for laborer in laborers[0::2]}
    office_order = [m["laborer_id"] in poor for m in office["matches"]]
    assert office_order == sorted(office_order, reverse=True)  # priority groups first
    assert [m["laborer_id"] in poor for m in mine["matches"]] != office_order
    assert any(m["distance_km"] != round(m["distance_km"]) for m in office["matches"])


def test_an_employer_moving_a_posting_learns_no_finer_distances_and_is_stopped(county, readers):
    opening = county["opening"]
    _, headers = readers["employer"]
    pages, _ = readers["employer"]
    seen = []
    for step in range(3):
        moved = pages.patch(
            f"/api/v1/openings/{opening.id}",
            headers=headers,
            json={"lat": 36.47 + 0.004 * step, "lon": 110.76 + 0.003 * step},
        )
        assert moved.status_code == 200, moved.json
        matches = _candidates(readers, "employer", opening.id)["matches"]
        assert matches and all(m["distance_km"] == int(m["distance_km"]) for m in matches)
        seen.append({m["laborer_id"]: m["distance_km"] for m in matches})
    fourth = pages.patch(f"/api/v1/openings/{opening.id}", headers=headers, json={"lat": 36.5, "lon": 110.8})
    assert fourth.status_code == 429 and "lat" in fourth.json["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(type(opening), opening.id).lat == pytest.approx(36.478)
    moves = db.session.scalar(select(func.count()).where(AuditEvent.action == "position_change"))
    assert moves == 3


def test_an_employer_sees_its_placements_in_whole_km_without_score(county, readers):
    placement_id = county["ids"]["placement_id"]
    api = _read(readers, "employer", f"/api/v1/placements/{placement_id}").json
    assert api["distance_km"] == 2 and api["score"] is None
    page = _text(_read(readers, "employer", f"/employer/placements/{placement_id}"))
    assert "2.3" not in page and "2.345" not in page
    office = _read(readers, "office", f"/api/v1/placements/{placement_id}").json
    assert office["distance_km"] == 2.345 and office["score"] == 0.8
