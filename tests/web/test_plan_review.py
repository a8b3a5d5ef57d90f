"""Reviewing a finished plan before confirming (issue 14, part 7): filters, XLSX per village read back,
removing and moving single proposals (re-checked, logged, report recomputed), confirming what is left."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from web.extensions import db
from web.models import AuditEvent, Placement, PlanAssignment, PlanChange

ANGU, BAI, QU_E = "141030100201", "141030100202", "141030101201"


def _county(factory):
    """Laborers in three villages of two townships, two openings and a welfare post near them."""
    glove = factory.opening(slots=3, title="手套包装")
    sewing = factory.opening(slots=2, title="缝纫车间", job_type="sewing")
    heavy = factory.opening(slots=2, title="搬运工", physical_demand="heavy", max_age=50)
    people = {
        "angu": factory.laborer(factory.household(ANGU)),
        "bai": factory.laborer(factory.household(BAI)),
        "qu_e": factory.laborer(factory.household(QU_E, lat=36.4705 + 0.02, lon=110.75 + 0.01)),
    }
    office = factory.user("office")
    db.session.commit()
    return {"glove": glove, "sewing": sewing, "heavy": heavy, "office": office, **people}


def _plan(client, headers):
    made = client.post("/api/v1/plans", json={"county_code": "141030", "mode": "optimal"}, headers=headers)
    assert made.status_code == 201, made.json
    return made.json


def test_filters_by_village_township_channel_and_posting(client, factory, api_token):
    c = _county(factory)
    headers = api_token(c["office"])
    plan = _plan(client, headers)
    url = f"/api/v1/plans/{plan['id']}/assignments"
    everyone = client.get(url, headers=headers).json
    assert {a["laborer_id"] for a in everyone} == {c["angu"].id, c["bai"].id, c["qu_e"].id}
    assert [a["village_code"] for a in everyone] == sorted(a["village_code"] for a in everyone)
    by_village = client.get(f"{url}?village={BAI}", headers=headers).json
    assert [a["laborer_id"] for a in by_village] == [c["bai"].id]
    by_township = client.get(f"{url}?township=141030100", headers=headers).json
    assert {a["laborer_id"] for a in by_township} == {c["angu"].id, c["bai"].id}
    some = everyone[0]
    by_posting = client.get(f"{url}?posting={some['kind']}:{some['target_id']}", headers=headers).json
    assert by_posting and all((a["kind"], a["target_id"]) == (some["kind"], some["target_id"]) for a in by_posting)
    channel = client.get(f"{url}?channel=batch", headers=headers).json
    assert channel == []
    bad = client.get(f"{url}?village=12", headers={**headers, "Accept-Language": "en"})
    assert bad.status_code == 422 and "village" in bad.json["error"]["fields"]
    for posting in ("opening:x", "opening:²", "opening:99999999999", "spaceship:1"):
        bad_posting = client.get(f"{url}?posting={posting}", headers=headers)
        assert bad_posting.status_code == 422 and "posting" in bad_posting.json["error"]["fields"]
    unicode_digits = client.get(f"{url}?township=١٤١٠٣٠١٠٠", headers=headers)
    assert unicode_digits.status_code == 422 and "township" in unicode_digits.json["error"]["fields"]


def test_export_per_village_reads_back_with_openpyxl(client, factory, api_token):
    c = _county(factory)
    c["angu"].name = '=HYPERLINK("http://x","y")'  # typed into a record: must stay text
    db.session.commit()
    headers = api_token(c["office"])
    plan = _plan(client, headers)
    response = client.get(f"/api/v1/plans/{plan['id']}/assignments.xlsx?township=141030100", headers=headers)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["安古村 201", "白村 202"]  # one sheet per village of the township, by code
    angu = list(book["安古村 201"].iter_rows(values_only=True))
    assert angu[0][:5] == ("村", "户编号", "姓名", "身份证号（已隐去）", "渠道")
    [row] = angu[1:]
    assert row[0] == ANGU and row[2] == '=HYPERLINK("http://x","y")'
    assert row[3][:6] == c["angu"].id_number[:6] and "*" in row[3] and row[3] != c["angu"].id_number
    assert row[4] in ("就近就业", "公益岗位") and "公里" in row[8]
    for sheet in book.worksheets:
        for cells in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in cells)  # no live formula anywhere
    exported = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "plan_export"))
    assert exported == 1


def test_remove_and_swap_are_rechecked_logged_and_the_report_follows(client, factory, api_token):
    c = _county(factory)
    headers = {**api_token(c["office"]), "Accept-Language": "en"}
    plan = _plan(client, headers)
    rows = {a["laborer_id"]: a for a in plan["assignments"]}
    assert plan["report"]["placed"] == 3
    angu = rows[c["angu"].id]
    # A move to a target the laborer may not take is refused with the rule's reason; nothing changes.
    refused = client.patch(
        f"/api/v1/plans/{plan['id']}/assignments/{angu['id']}",
        json={"kind": "opening", "target_id": c["heavy"].id},
        headers=headers,
    )
    assert refused.status_code == 409, refused.json
    assert any("light" in m for m in refused.json["error"]["fields"]["target_id"])
    assert db.session.scalar(select(func.count(PlanChange.id))) == 0
    # A move to the other opening: re-checked, scored afresh, logged.
    other = c["sewing"] if angu["target_id"] != c["sewing"].id else c["glove"]
    moved = client.patch(
        f"/api/v1/plans/{plan['id']}/assignments/{angu['id']}",
        json={"kind": "opening", "target_id": other.id, "note": "closer to her daughter"},
        headers=headers,
    )
    assert moved.status_code == 200, moved.json
    assert (moved.json["action"], moved.json["to_kind"], moved.json["to_target_id"]) == ("swapped", "opening", other.id)
    assert (moved.json["from_kind"], moved.json["from_target_id"]) == (angu["kind"], angu["target_id"])
    row = db.session.get(PlanAssignment, angu["id"])
    db.session.refresh(row)
    assert row.opening_id == other.id and row.explanation["codes"]
    # Removing one: the report counts what is left.
    bai = rows[c["bai"].id]
    removed = client.post(
        f"/api/v1/plans/{plan['id']}/assignments/{bai['id']}/remove", json={"note": "moved away"}, headers=headers
    )
    assert removed.status_code == 200, removed.json
    assert removed.json["report"]["placed"] == 2 and removed.json["report"]["review_changes"] == 2
    assert removed.json["report"]["households_moved"] == 2
    log = client.get(f"/api/v1/plans/{plan['id']}/changes", headers=headers).json
    assert [(e["action"], e["laborer_id"], e["note"]) for e in log] == [
        ("swapped", c["angu"].id, "closer to her daughter"),
        ("removed", c["bai"].id, "moved away"),
    ]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("plan_assignment_%"))).all()
    assert sorted(actions) == ["plan_assignment_removed", "plan_assignment_swapped"]
    # Confirming makes offers of what is left, and nothing can change afterwards.
    confirmed = client.post(f"/api/v1/plans/{plan['id']}/confirm", headers=headers)
    assert confirmed.status_code == 200 and confirmed.json["placements"] == 2
    offered = db.session.execute(select(Placement.laborer_id, Placement.opening_id, Placement.welfare_post_id)).all()
    assert {r[0] for r in offered} == {c["angu"].id, c["qu_e"].id}
    assert (c["angu"].id, other.id, None) in offered
    late = client.post(f"/api/v1/plans/{plan['id']}/assignments/{angu['id']}/remove", json={}, headers=headers)
    assert late.status_code == 409 and "status" in late.json["error"]["fields"]


def test_a_swap_cannot_overfill_what_the_plans_other_proposals_take(client, factory, api_token):
    one = factory.opening(slots=1, title="单人岗位")
    first, second = factory.laborer(), factory.laborer(birth_on=date(1970, 1, 1))
    factory.welfare_post()
    office = factory.user("office")
    db.session.commit()
    headers = {**api_token(office), "Accept-Language": "en"}
    plan = _plan(client, headers)
    rows = {a["laborer_id"]: a for a in plan["assignments"]}
    holder = next(a for a in plan["assignments"] if a["kind"] == "opening" and a["target_id"] == one.id)
    other = rows[second.id if holder["laborer_id"] == first.id else first.id]
    assert other["kind"] == "welfare_post"
    full = client.patch(
        f"/api/v1/plans/{plan['id']}/assignments/{other['id']}",
        json={"kind": "opening", "target_id": one.id},
        headers=headers,
    )
    assert full.status_code == 409
    assert any("no free places" in m for m in full.json["error"]["fields"]["target_id"])
    missing = client.patch(
        f"/api/v1/plans/{plan['id']}/assignments/999999", json={"kind": "opening", "target_id": one.id}, headers=headers
    )
    assert missing.status_code == 404
