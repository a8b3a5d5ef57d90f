"""Batches after departure and the transport subsidy ledger (issue 13, part 4): the handover makes a batch
`arrived` and settles each passenger; the 90-day check-in makes a claim due (tick step, idempotent, one per
laborer a year); amounts follow the county's table and the province's cap; the office approves in bulk; the
payment list and the public notice add up to the database and the notice shows no ID number or phone."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import freeze_day
from web import clock
from web.extensions import db
from web.models import (
    AuditEvent,
    BatchStatus,
    ClaimStatus,
    HandoverPassenger,
    Message,
    MessageKind,
    Placement,
    PlacementStatus,
    RetentionCheckin,
    SubsidyClaim,
    TransportBatch,
)
from web.services import tick as tick_service
from web.services import transport
from web.services.retention import record_checkin

DEPARTED_ON = date(2026, 3, 2)
ARRIVED_ON = date(2026, 3, 3)
CHECKED_ON = ARRIVED_ON + timedelta(days=90)


def _departed(factory, *, passengers: int = 3, band: str | None = "outside_far", **kw) -> dict:
    employer = factory.employer(kind="enterprise", name="太原电子厂")
    batch = factory.batch(
        employer,
        status="departed",
        departs_at=datetime.combine(DEPARTED_ON, time(8, 0), clock.zone()).astimezone(UTC),
        destination_band=band,
        **kw,
    )
    placements = []
    for i in range(passengers):
        laborer = factory.laborer(phone=f"1390000{i:04d}", work_area="migrant")
        placement = Placement(
            laborer_id=laborer.id, household_id=laborer.household_id, batch_id=batch.id, status="accepted"
        )
        db.session.add(placement)
        placements.append(placement)
    db.session.flush()
    return {"batch": batch, "employer": employer, "placements": placements}


@pytest.fixture
def departed(app, factory, monkeypatch):
    """A batch departed on DEPARTED_ON with three accepted passengers; the office, the cadre, the employer's user."""
    freeze_day(monkeypatch, ARRIVED_ON)
    made = _departed(factory)
    made["office"] = factory.user("office")
    made["cadre"] = factory.user("cadre")
    made["employer_user"] = factory.user("employer", employer_id=made["employer"].id)
    db.session.commit()
    return made


def _handover(made, user, *, absent_reason: str | None = "生病未能成行", **kw):
    first, second, third = made["placements"]
    answers = {
        first.id: transport.PassengerAnswer(True),
        second.id: transport.PassengerAnswer(True),
        third.id: transport.PassengerAnswer(False, absent_reason),
    }
    values = dict(arrived_on=ARRIVED_ON, received_by_name="王经理", received_by_phone="13512345678", passengers=answers)
    values.update(kw)
    return transport.record_handover(db.session, user, made["batch"].id, **values)


def _claims() -> list[SubsidyClaim]:
    return list(db.session.scalars(select(SubsidyClaim).order_by(SubsidyClaim.id)))


def _check_in(made, monkeypatch, *, still: tuple[bool, ...] = (True, True)) -> None:
    freeze_day(monkeypatch, CHECKED_ON)
    for placement, is_working in zip(made["placements"], still, strict=False):
        record_checkin(db.session, made["office"], placement.id, 90, is_working, today=CHECKED_ON)
    db.session.commit()


# -- the handover ------------------------------------------------------------------------------------


def test_the_handover_makes_the_batch_arrived_and_settles_each_passenger(departed):
    _handover(departed, departed["employer_user"])
    db.session.commit()
    batch = db.session.get(TransportBatch, departed["batch"].id)
    first, second, third = (db.session.get(Placement, p.id) for p in departed["placements"])
    assert batch.status is BatchStatus.ARRIVED
    assert (batch.arrived_on, batch.received_by_name, batch.received_by_phone) == (ARRIVED_ON, "王经理", "13512345678")
    assert batch.handover_by_id == departed["employer_user"].id
    assert first.status is second.status is PlacementStatus.WORKING
    assert first.started_on == ARRIVED_ON
    assert third.status is PlacementStatus.ENDED and third.end_reason == "生病未能成行"
    assert third.events[-1].to_status is PlacementStatus.ENDED
    lines = {line.placement_id: line.has_arrived for line in db.session.scalars(select(HandoverPassenger))}
    assert lines == {first.id: True, second.id: True, third.id: False}
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"batch_handover", "placement_working", "placement_ended"} <= actions
    told = {m.user_id for m in db.session.scalars(select(Message).where(Message.kind == MessageKind.BATCH_ARRIVED))}
    assert told == {departed["office"].id, departed["cadre"].id}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"absent_reason": "  "}, "passengers.{third}.reason"),
        ({"arrived_on": DEPARTED_ON - timedelta(days=1)}, "arrived_on"),
        ({"arrived_on": ARRIVED_ON + timedelta(days=1)}, "arrived_on"),
        ({"received_by_phone": "12"}, "received_by_phone"),
        ({"received_by_name": ""}, "received_by_name"),
    ],
)
def test_an_incomplete_handover_is_refused_naming_the_field_and_changes_nothing(departed, change, field):
    from web.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        _handover(departed, departed["office"], **change)
    db.session.rollback()
    assert field.format(third=departed["placements"][2].id) in refused.value.fields
    assert db.session.get(TransportBatch, departed["batch"].id).status is BatchStatus.DEPARTED
    assert db.session.scalar(select(func.count()).select_from(HandoverPassenger)) == 0


def test_every_error_of_a_handover_is_named_at_once(departed):
    from web.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        transport.record_handover(
            db.session,
            departed["office"],
            departed["batch"].id,
            arrived_on=None,
            received_by_name="",
            received_by_phone="12",
            passengers={},
        )
    expected = {"arrived_on", "received_by_name", "received_by_phone"}
    assert set(refused.value.fields) == expected | {f"passengers.{p.id}" for p in departed["placements"]}


def test_every_passenger_must_be_answered_for_and_only_a_departed_batch_arrives(departed):
    from web.errors import ConflictError, ValidationError

    first = departed["placements"][0]
    with pytest.raises(ValidationError) as refused:
        transport.record_handover(
            db.session,
            departed["office"],
            departed["batch"].id,
            arrived_on=ARRIVED_ON,
            received_by_name="王经理",
            received_by_phone="13512345678",
            passengers={first.id: transport.PassengerAnswer(True)},
        )
    assert set(refused.value.fields) == {f"passengers.{p.id}" for p in departed["placements"][1:]}
    db.session.rollback()
    _handover(departed, departed["office"])
    with pytest.raises(ConflictError):
        _handover(departed, departed["office"])


def test_the_handover_through_the_api_and_its_scope(departed, client, api_token, factory):
    first, second, third = departed["placements"]
    body = {
        "arrived_on": ARRIVED_ON.isoformat(),
        "received_by_name": "王经理",
        "received_by_phone": "13512345678",
        "passengers": [
            {"placement_id": first.id, "arrived": True},
            {"placement_id": second.id, "arrived": True},
            {"placement_id": third.id, "arrived": False},
        ],
    }
    url = f"/api/v1/batches/{departed['batch'].id}/handover"
    other = factory.user("employer")
    db.session.commit()
    assert client.post(url, json=body, headers=api_token(other)).status_code == 404
    assert client.post(url, json=body, headers=api_token(departed["cadre"])).status_code == 403
    headers = api_token(departed["employer_user"])
    refused = client.post(url, json=body, headers={**headers, "Accept-Language": "zh"})
    assert refused.status_code == 422
    assert f"passengers.{third.id}.reason" in refused.json["error"]["fields"]
    body["passengers"][2]["reason"] = "家中有事"
    answered = client.post(url, json=body, headers=headers)
    assert answered.status_code == 200, answered.json
    assert [(r["placement_id"], r["arrived"]) for r in answered.json] == [
        (first.id, True),
        (second.id, True),
        (third.id, False),
    ]
    batch = client.get(f"/api/v1/batches/{departed['batch'].id}", headers=headers).json
    assert (batch["status"], batch["arrived_on"], batch["destination_band"]) == ("arrived", "2026-03-03", "outside_far")


def test_the_handover_page_records_it_in_either_language(departed, client, login):
    login(departed["employer_user"])
    first, second, third = departed["placements"]
    url = f"/employer/batches/{departed['batch'].id}/handover"
    page = client.get(url, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Record the handover" in page.get_data(as_text=True)
    form = {
        "arrived_on": ARRIVED_ON.isoformat(),
        "received_by_name": "王经理",
        "received_by_phone": "13512345678",
        f"arrived-{first.id}": "yes",
        f"arrived-{second.id}": "yes",
        f"arrived-{third.id}": "no",
    }
    refused = client.post(url, data=form, headers={"Accept-Language": "zh"})
    assert refused.status_code == 422
    assert "没有成行" in refused.get_data(as_text=True) or "未成行" in refused.get_data(as_text=True)
    form[f"reason-{third.id}"] = "生病"
    done = client.post(url, data=form)
    assert done.status_code == 302
    shown = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "did not travel" in shown and "生病" in shown and "王经理" in shown
    assert db.session.get(TransportBatch, departed["batch"].id).status is BatchStatus.ARRIVED


def test_the_band_is_set_on_the_batch_page(departed, client, login):
    login(departed["office"])
    url = f"/office/batches/{departed['batch'].id}/band"
    assert client.post(url, data={"destination_band": "outside_near"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(TransportBatch, departed["batch"].id).destination_band.value == "outside_near"
    listed = client.get("/office/batches", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert departed["batch"].title in listed and "省外近距离" in listed


# -- claims --------------------------------------------------------------------------------------------


def test_the_90_day_check_in_makes_a_claim_due_once(departed, monkeypatch):
    _handover(departed, departed["employer_user"])
    db.session.commit()
    _check_in(departed, monkeypatch, still=(True, False))
    assert tick_service.run(db.session, CHECKED_ON - timedelta(days=1))["subsidy_claims_due"] == 0
    counts = tick_service.run(db.session, CHECKED_ON)
    db.session.commit()
    (claim,) = _claims()
    assert counts["subsidy_claims_due"] == 1
    assert claim.placement_id == departed["placements"][0].id
    assert (claim.year, claim.band.value, claim.status) == (2026, "outside_far", ClaimStatus.DUE)
    # Daning is in Shanxi: the far band's 1,500 yuan is cut to the province's 800.
    assert claim.amount_cents == 80000
    assert claim.due_on == CHECKED_ON and claim.village_code == "141030100201"
    told = db.session.scalars(select(Message).where(Message.kind == MessageKind.SUBSIDY_DUE)).all()
    assert [m.user_id for m in told] == [departed["office"].id]

    before = {
        t: db.session.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("subsidy_claim", "message", "audit_event")
    }
    again = tick_service.run(db.session, CHECKED_ON)
    later = tick_service.run(db.session, CHECKED_ON + timedelta(days=3))
    db.session.commit()
    after = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}")) for t in before}
    assert again["subsidy_claims_due"] == later["subsidy_claims_due"] == 0
    assert after == before


def test_no_claim_without_arrival_band_or_travel(app, factory, monkeypatch):
    freeze_day(monkeypatch, ARRIVED_ON)
    office = factory.user("office")
    no_band = _departed(factory, passengers=1, band=None)
    not_arrived = _departed(factory, passengers=1)
    db.session.commit()
    transport.record_handover(
        db.session,
        office,
        no_band["batch"].id,
        arrived_on=ARRIVED_ON,
        received_by_name="李",
        received_by_phone="13512345678",
        passengers={no_band["placements"][0].id: transport.PassengerAnswer(True)},
    )
    # A placement at work on a batch that never recorded its handover.
    stray = not_arrived["placements"][0]
    stray.status, stray.started_on = PlacementStatus.WORKING, ARRIVED_ON
    db.session.commit()
    freeze_day(monkeypatch, CHECKED_ON)
    for made in (no_band, not_arrived):
        record_checkin(db.session, office, made["placements"][0].id, 90, True, today=CHECKED_ON)
    db.session.commit()
    assert transport.create_due_claims(db.session, CHECKED_ON) == 0
    # Once the band is set, the arrived passenger's claim becomes due (the inside band: 300 yuan).
    no_band["batch"].destination_band = "inside_province"
    assert transport.create_due_claims(db.session, CHECKED_ON) == 1
    assert [c.amount_cents for c in _claims()] == [30000]


def test_one_claim_per_laborer_per_year(departed, factory, monkeypatch):
    _handover(departed, departed["office"])
    db.session.commit()
    _check_in(departed, monkeypatch, still=(True,))
    assert transport.create_due_claims(db.session, CHECKED_ON) == 1
    # The same laborer's second trip that year, arrived and still at work 90 days on: no second claim.
    laborer_id = departed["placements"][0].laborer_id
    placement = db.session.get(Placement, departed["placements"][0].id)
    second = factory.batch(departed["employer"], status="arrived", destination_band="outside_near")
    again = Placement(
        laborer_id=laborer_id,
        household_id=placement.household_id,
        batch_id=second.id,
        status="working",
        started_on=date(2026, 6, 1),
    )
    db.session.add(again)
    db.session.flush()
    db.session.add(HandoverPassenger(batch_id=second.id, placement_id=again.id, has_arrived=True))
    db.session.add(RetentionCheckin(placement_id=again.id, day=90, checked_on=date(2026, 8, 30), is_still_working=True))
    db.session.commit()
    assert transport.create_due_claims(db.session, date(2026, 9, 1)) == 0
    # And the database itself refuses a second claim for the laborer that year.
    first = _claims()[0]
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(
            SubsidyClaim(
                laborer_id=laborer_id,
                placement_id=again.id,
                batch_id=second.id,
                county_code="141030",
                village_code=first.village_code,
                year=2026,
                band="outside_near",
                amount_cents=60000,
                due_on=date(2026, 8, 30),
            )
        )
    db.session.rollback()
    # The next year counts again.
    db.session.execute(
        RetentionCheckin.__table__.update()
        .where(RetentionCheckin.placement_id == again.id)
        .values(checked_on=date(2027, 1, 5))
    )
    db.session.commit()
    assert transport.create_due_claims(db.session, date(2027, 1, 5)) == 1
    assert sorted(c.year for c in _claims()) == [2026, 2027]


# -- the county's table ---------------------------------------------------------------------------------


def test_rates_default_cut_to_the_cap_set_by_the_office_and_refused_above_it(departed, client, login):
    from web.errors import ValidationError

    office = departed["office"]
    assert {r.band.value: (r.amount_cents, r.is_default) for r in transport.rates_for(db.session, "141030")} == {
        "outside_far": (80000, True),
        "outside_near": (60000, True),
        "inside_province": (30000, True),
    }
    with pytest.raises(ValidationError) as refused:
        transport.set_rates(db.session, office, "141030", {"outside_far": 900})
    assert set(refused.value.fields) == {"outside_far"}
    db.session.rollback()
    login(office)
    page = client.post(
        "/office/subsidies/rates",
        data={"county": "141030", "outside_far": "900", "outside_near": "500", "inside_province": "200"},
        headers={"Accept-Language": "zh"},
    )
    assert page.status_code == 422 and "800" in page.get_data(as_text=True)
    saved = client.post(
        "/office/subsidies/rates",
        data={"county": "141030", "outside_far": "700", "outside_near": "500", "inside_province": "200"},
    )
    assert saved.status_code == 302
    assert [r.amount_cents for r in transport.rates_for(db.session, "141030")] == [70000, 50000, 20000]
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "subsidy_rates")) == 1


def test_rates_through_the_api(departed, client, api_token):
    headers = api_token(departed["office"])
    put = client.put(
        "/api/v1/subsidy-rates", json={"county_code": "141030", "amounts_yuan": {"outside_near": 550}}, headers=headers
    )
    assert put.status_code == 200, put.json
    got = client.get("/api/v1/subsidy-rates?county=141030", headers=headers).json
    assert {r["band"]: r["amount_cents"] for r in got["rates"]}["outside_near"] == 55000
    over = client.put(
        "/api/v1/subsidy-rates", json={"county_code": "141030", "amounts_yuan": {"outside_far": 1500}}, headers=headers
    )
    assert over.status_code == 422 and "outside_far" in over.json["error"]["fields"]
    assert client.get("/api/v1/subsidy-rates?county=141031", headers=headers).status_code == 404


# -- the ledger: sums, approval, exports ---------------------------------------------------------------


@pytest.fixture
def ledger(departed, factory, monkeypatch):
    """Two batches arrived; four claims due in 2026 (three far at 800, one near at 600)."""
    _handover(departed, departed["office"])
    near = _departed(factory, passengers=2, band="outside_near")
    db.session.commit()
    transport.record_handover(
        db.session,
        departed["office"],
        near["batch"].id,
        arrived_on=ARRIVED_ON,
        received_by_name="赵",
        received_by_phone="13512345678",
        passengers={p.id: transport.PassengerAnswer(True) for p in near["placements"]},
    )
    db.session.commit()
    freeze_day(monkeypatch, CHECKED_ON)
    for placement in [*departed["placements"][:2], *near["placements"][:1]]:
        record_checkin(db.session, departed["office"], placement.id, 90, True, today=CHECKED_ON)
    record_checkin(db.session, departed["office"], near["placements"][1].id, 90, True, today=CHECKED_ON)
    db.session.commit()
    assert transport.create_due_claims(db.session, CHECKED_ON) == 4
    db.session.commit()
    return departed


def _sql_sums() -> dict[str, tuple[int, int]]:
    rows = db.session.execute(
        text("SELECT status, count(*), sum(amount_cents) FROM subsidy_claim WHERE year = 2026 GROUP BY status")
    ).all()
    return {status: (int(n), int(total)) for status, n, total in rows}


def test_ledger_sums_match_the_database_before_and_after_bulk_approval(ledger, client, login, api_token):
    office = ledger["office"]
    sums = transport.totals(db.session, office, year=2026)
    assert _sql_sums() == {"due": (4, 2 * 80000 + 2 * 60000)}
    assert (sums.count["due"], sums.cents["due"], sums.count["approved"]) == (4, 280000, 0)
    claims = _claims()
    login(office)
    page = client.get("/office/subsidies?year=2026", headers={"Accept-Language": "zh"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "2,800.00" in body or "2800.00" in body
    approved = client.post("/office/subsidies/approve", data={"claim": [c.id for c in claims[:3]], "year": "2026"})
    assert approved.status_code == 302
    assert _sql_sums() == {"due": (1, 60000), "approved": (3, 80000 + 80000 + 60000)}
    sums = transport.totals(db.session, office, year=2026)
    assert (sums.cents["approved"], sums.cents["due"]) == (220000, 60000)
    api = client.get("/api/v1/subsidy-claims/totals?year=2026", headers=api_token(office)).json
    assert api == {"count": {"due": 1, "approved": 3}, "cents": {"due": 60000, "approved": 220000}}
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "subsidy_approved")) == 3


def test_approval_is_all_or_nothing_within_the_offices_region(ledger, factory, client, api_token):
    township_office = factory.user("office", region_code="141030101")
    db.session.commit()
    ids = [c.id for c in _claims()]
    assert (
        client.post("/api/v1/subsidy-claims/approve", json={"ids": ids}, headers=api_token(township_office)).status_code
        == 404
    )
    assert (
        client.post("/api/v1/subsidy-claims/approve", json={"ids": ids}, headers=api_token(ledger["cadre"])).status_code
        == 403
    )
    assert _sql_sums() == {"due": (4, 280000)}
    assert (
        client.post("/api/v1/subsidy-claims/approve", json={"ids": []}, headers=api_token(ledger["office"])).status_code
        == 422
    )
    done = client.post("/api/v1/subsidy-claims/approve", json={"ids": ids}, headers=api_token(ledger["office"]))
    assert done.status_code == 200 and done.json["count"]["approved"] == 4
    listed = client.get("/api/v1/subsidy-claims?status=approved&year=2026", headers=api_token(ledger["office"])).json
    assert listed["meta"]["total"] == 4 and {c["status"] for c in listed["items"]} == {"approved"}


def _sheet_rows(data: bytes) -> list[tuple]:
    book = load_workbook(io.BytesIO(data))
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


def _digits_of_people() -> set[str]:
    rows = db.session.execute(text("SELECT id_number, phone FROM laborer")).all()
    return {value for row in rows for value in row if value}


def test_payment_list_totals_and_notice_without_id_or_phone(ledger, client, login):
    transport.approve_claims(db.session, ledger["office"], [c.id for c in _claims()])
    db.session.commit()
    login(ledger["office"])
    payments = client.get("/office/subsidies/payments.xlsx?year=2026")
    assert payments.status_code == 200
    rows = _sheet_rows(payments.data)
    assert rows[0][0] == "序号" and rows[0][-1] == "金额（元）"
    assert len(rows) == 1 + 4 + 1  # header, four claims, the total row
    assert rows[-1][1] == "合计"
    assert rows[-1][-1] == sum(r[-1] for r in rows[1:-1]) == _sql_sums()["approved"][1] / 100
    assert not any(isinstance(v, str) and v.startswith("=") for row in rows for v in row)

    secrets = _digits_of_people()
    notice_page = client.get("/office/subsidies/notice?year=2026", headers={"Accept-Language": "zh"})
    notice_xlsx = client.get("/office/subsidies/notice.xlsx?year=2026")
    assert notice_page.status_code == notice_xlsx.status_code == 200
    page_text = notice_page.get_data(as_text=True)
    cells = " ".join(str(v) for row in _sheet_rows(notice_xlsx.data) for v in row if v is not None)
    for shown in (page_text, cells):
        for claim in _claims():
            assert claim.laborer.name in shown
        digits = re.sub(r"\D", "", shown)
        for secret in secrets:
            assert re.sub(r"\D", "", secret) not in digits
        assert "安古村" in shown or "141030100201" not in shown
    assert _sheet_rows(notice_xlsx.data)[-1][-1] == _sql_sums()["approved"][1] / 100
    exports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert len(exports) == 2


def test_only_offices_read_the_ledger(ledger, client, login):
    login(ledger["employer_user"])
    for url in ("/office/subsidies", "/office/subsidies/notice", "/office/subsidies/rates"):
        assert client.get(url).status_code == 403
