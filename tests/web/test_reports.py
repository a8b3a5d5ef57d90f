"""Reports: rows match a direct query, XLSX carries the same, scope and masking hold, exports audited."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from web.extensions import db
from web.models import AuditEvent, Household, Laborer, Placement, WelfarePost
from web.services import reports, scope
from web.services.disclosure import mask_id_number

DAY = date(2020, 6, 30)
ANGU, BAICUN, QUE = "141030100201", "141030100202", "141030101201"


def place(laborer, *, started_on, ended_on=None, status="working", **target):
    row = Placement(
        laborer_id=laborer.id,
        household_id=laborer.household_id,
        status=status,
        started_on=started_on,
        ended_on=ended_on,
        **target,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def data(factory):
    """Two workshops, a batch with passengers from two villages, posts, households without work."""
    shop = factory.employer(kind="workshop", region_code=ANGU, name="安古车间")
    other = factory.employer(kind="workshop", region_code=QUE, name="曲峨车间")
    opening = factory.opening(shop, slots=20)
    for _ in range(5):
        place(factory.laborer(status="employed"), opening_id=opening.id, started_on=date(2020, 3, 2))
    place(
        factory.laborer(factory.household(QUE), status="employed"),
        opening_id=factory.opening(other).id,
        started_on=date(2020, 4, 2),
    )
    batch = factory.batch()
    riders = [factory.laborer(factory.household(v)) for v in (ANGU, ANGU, QUE)]
    for rider in riders:
        place(rider, batch_id=batch.id, started_on=date(2020, 3, 20))
    post = factory.welfare_post(region_code=ANGU, title="安古村保洁员")
    factory.welfare_post(region_code=QUE, title="曲峨村护路员")
    holder = factory.laborer(factory.household(ANGU))
    place(holder, welfare_post_id=post.id, started_on=date(2020, 5, 1))
    idle = [factory.household(v) for v in (ANGU, BAICUN, QUE)]
    for household in idle:
        factory.laborer(household)
    factory.laborer(factory.household(ANGU, poverty_status="non_poor"))
    db.session.commit()
    return {"batch": batch, "idle": idle, "holder": holder, "riders": riders}


def login(client, user):
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_households_without_work_match_a_direct_query(factory, data):
    office = factory.user("office", region_code="141030")
    report = reports.households_without_work(db.session, scope.report_scope(office), DAY)
    expected = sorted(h.code for h in data["idle"])
    assert [r["household"] for r in report.rows] == expected
    cadre = factory.user("cadre", village_codes=[ANGU])
    mine = reports.households_without_work(db.session, scope.report_scope(cadre), DAY)
    assert [r["household"] for r in mine.rows] == [data["idle"][0].code]
    # Members counted per household: all of them, and those who can take a local post.
    family = factory.household(BAICUN)
    for ability, area in (("light", "local"), ("none", "local"), ("full", "migrant")):
        factory.laborer(family, physical_ability=ability, work_area=area)
    db.session.commit()
    counted = {
        r["household"]: (r["laborers"], r["able_local"])
        for r in reports.households_without_work(db.session, scope.report_scope(office), DAY).rows
    }
    assert counted == {**{h.code: (1, 1) for h in data["idle"]}, family.code: (3, 1)}


def test_workshop_recognition_list(factory, data):
    office = factory.user("office", region_code="141030")
    rows = reports.workshop_recognition(db.session, scope.report_scope(office), DAY, 5).rows
    by_name = {r["name"]: r for r in rows}
    assert by_name["安古车间"]["poor_workers"] == 5 and by_name["安古车间"]["recognised"] is True
    assert by_name["曲峨车间"]["workers"] == 1 and by_name["曲峨车间"]["recognised"] is False
    assert all(r["resumed"] for r in rows)


def test_batch_manifest_lists_passengers_in_scope_with_masked_ids(factory, data):
    office = factory.user("office", region_code="141030")
    rows = reports.batch_manifest(db.session, scope.report_scope(office), data["batch"].id).rows
    direct = db.session.scalars(
        select(Laborer.id_number)
        .join(Placement, Placement.laborer_id == Laborer.id)
        .where(Placement.batch_id == data["batch"].id)
    ).all()
    assert sorted(r["id_number"] for r in rows) == sorted(mask_id_number(n) for n in direct)
    cadre = factory.user("cadre", village_codes=[ANGU])
    mine = reports.batch_manifest(db.session, scope.report_scope(cadre), data["batch"].id)
    assert sorted(r["id_number"] for r in mine.rows) == sorted(mask_id_number(r.id_number) for r in data["riders"][:2])
    assert sorted(mine.subject_ids) == sorted(r.id for r in data["riders"][:2])
    asked = reports.batch_manifest(db.session, scope.report_scope(cadre), data["batch"].id, full_ids=True).rows
    assert sorted(r["id_number"] for r in asked) == sorted(r.id_number for r in data["riders"][:2])


def test_welfare_roster(factory, data):
    office = factory.user("office", region_code="141030")
    rows = reports.welfare_roster(db.session, scope.report_scope(office), DAY).rows
    assert len(rows) == db.session.query(WelfarePost).count() == 2
    held = [r for r in rows if r["name"]]
    assert [r["name"] for r in held] == [data["holder"].name]
    assert held[0]["id_number"] == mask_id_number(data["holder"].id_number)


def test_placements_by_channel(factory, data):
    office = factory.user("office", region_code="141030")
    report = reports.placements_by_channel(db.session, scope.report_scope(office), date(2020, 1, 1), DAY)
    cells = {(r["month"], r["channel"]): r["started"] for r in report.rows}
    assert cells == {
        ("2020-03", "opening"): 5,
        ("2020-03", "batch"): 3,
        ("2020-04", "opening"): 1,
        ("2020-05", "welfare_post"): 1,
    }
    total = db.session.query(Placement).filter(Placement.status == "working").count()
    assert sum(r["started"] for r in report.rows) == total


def test_scope_outside_region_is_not_found(factory, data):
    from web.errors import NotFoundError, PermissionDeniedError

    office = factory.user("office", region_code="141030")
    with pytest.raises(NotFoundError):
        scope.report_scope(office, "1401")
    with pytest.raises(PermissionDeniedError):
        scope.report_scope(factory.user("employer"))


@pytest.mark.parametrize("name", reports.REPORTS)
def test_xlsx_export_carries_the_rows_and_is_audited(client, factory, data, name):
    office = factory.user("office", region_code="141030")
    db.session.commit()
    login(client, office)
    response = client.get(f"/reports/{name}.xlsx?on=2020-06-30&start=2020-01-01")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = list(sheet.iter_rows(values_only=True))
    built = {
        "households-without-work": lambda s: reports.households_without_work(db.session, s, DAY),
        "workshop-recognition": lambda s: reports.workshop_recognition(db.session, s, DAY, 5),
        "batch-manifest": lambda s: reports.batch_manifest(db.session, s),
        "welfare-roster": lambda s: reports.welfare_roster(db.session, s, DAY),
        "welfare-public-notice": lambda s: reports.welfare_public_notice(db.session, s, DAY),
        "placements-by-channel": lambda s: reports.placements_by_channel(db.session, s, date(2020, 1, 1), DAY),
    }[name](scope.report_scope(office))
    assert list(cells[0]) == [c.header_zh for c in built.columns]
    assert len(cells) - 1 == len(built.rows)
    for column_index, column in enumerate(built.columns):
        if column.is_number:
            assert [row[column_index] for row in cells[1:]] == [r[column.key] for r in built.rows]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert event.user_id == office.id and event.detail["report"] == name


def test_xlsx_masks_ids_unless_full_ones_are_asked_for_and_that_is_audited(client, factory, data):
    cadre = factory.user("cadre", village_codes=[ANGU])
    db.session.commit()
    login(client, cadre)
    riders = data["riders"][:2]
    response = client.get("/reports/batch-manifest.xlsx")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert sorted(row[5] for row in rows[1:]) == sorted(mask_id_number(r.id_number) for r in riders)
    response = client.get("/reports/batch-manifest.xlsx?full_ids=1")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert sorted(row[5] for row in rows[1:]) == sorted(r.id_number for r in riders)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export_full_ids"))
    assert event.user_id == cadre.id and sorted(event.detail["ids"]) == sorted(r.id for r in riders)
    # Reports without ID numbers ignore the option: an ordinary (masked) export.
    client.get("/reports/workshop-recognition.xlsx?full_ids=1")
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "export_full_ids")) == 1


def test_report_pages_respect_roles_and_scope(client, factory, data):
    office = factory.user("office", region_code="141030")
    employer = factory.user("employer")
    db.session.commit()
    login(client, employer)
    assert client.get("/reports/welfare-roster").status_code == 403
    client.post("/logout")
    login(client, office)
    page = client.get("/reports/welfare-roster?on=2020-06-30")
    assert page.status_code == 200 and "安古村保洁员" in page.get_data(as_text=True)
    assert client.get("/reports/welfare-roster?region=1401").status_code == 404
    assert client.get("/reports/nonsense").status_code == 404
    assert client.get("/reports/welfare-roster?on=June").status_code == 422
    households = db.session.scalars(select(Household.code)).all()
    assert households  # the page read the same tables


def test_the_employers_manifest_is_the_offices_manifest_of_its_batch(client, factory, data):
    batch = data["batch"]
    # A booked passenger beside those who travelled, and one who declined (no passenger at all).
    booked = factory.laborer(factory.household(ANGU))
    place(booked, batch_id=batch.id, started_on=None, status="accepted")
    place(factory.laborer(factory.household(ANGU)), batch_id=batch.id, started_on=None, status="declined")
    office = factory.user("office", region_code="141030")
    employer = factory.user("employer", employer_id=batch.employer_id)
    db.session.commit()
    sheets = {}
    for user, url in (
        (office, f"/reports/batch-manifest.xlsx?batch={batch.id}"),
        (employer, f"/employer/batches/{batch.id}/manifest.xlsx"),
    ):
        login(client, user)
        response = client.get(url)
        assert response.status_code == 200
        sheets[user.role.value] = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
        client.post("/logout")
    header, *rows = sheets["office"]
    # The same rows in the same order; the employer's file lacks the ID column and shows a phone
    # only for its own accepted or working passengers (services.disclosure), the office's masks it.
    shared = [name for name in header if name not in ("身份证号", "电话")]
    employer_header, *employer_rows = sheets["employer"]
    assert [h for h in employer_header if h != "电话"] == shared
    pick = lambda head, row: [row[head.index(name)] for name in shared]  # noqa: E731
    assert [pick(employer_header, r) for r in employer_rows] == [pick(header, r) for r in rows]
    names = {row[header.index("姓名")] for row in rows}
    assert names == {r.name for r in data["riders"]} | {booked.name}
    assert all("*" in row[header.index("身份证号")] for row in rows)


def test_a_report_page_reads_only_the_rows_it_shows_and_counts_them_all(client, factory, data, monkeypatch):
    from web.pages import dashboard

    office = factory.user("office", region_code="141030")
    db.session.commit()
    whole = reports.households_without_work(db.session, scope.report_scope(office), DAY)
    first = reports.households_without_work(db.session, scope.report_scope(office), DAY, limit=2)
    assert whole.count == len(whole.rows) == 3
    assert first.rows == whole.rows[:2] and first.count == 3 and first.subject_ids == whole.subject_ids[:2]
    monkeypatch.setattr(dashboard, "PAGE_ROWS", 2)
    login(client, office)
    page = client.get("/reports/households-without-work?on=2020-06-30")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "共 3 行。" in html and "本页显示前 2 行" in html
    assert [code for code in (r["household"] for r in whole.rows) if code in html] == [
        r["household"] for r in first.rows
    ]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report"))
    assert event.detail["ids"] == first.subject_ids and event.detail["shown"] == 2
