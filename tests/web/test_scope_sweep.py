"""Every route, for every role, against records inside and outside each role's scope (DESIGN §7).

The routes come from `app.url_map`, so that a new page or API endpoint is swept as soon as it exists
(a route whose id parameter the sweep does not know fails loudly until it is mapped below).

- anonymous: pages send to the login page, API calls answer 401;
- a role that may not use a route: 403, the same answer for a record in and out of scope;
- a role that may: the in-scope record answers (200 or a redirect), the out-of-scope one 404;
- no answer ever carries an out-of-scope record's name, a full ID number or phone the role may not
  see, or (to employers) a poverty status; XLSX exports are opened and read cell by cell;
- the write routes, called with out-of-scope ids, change nothing; no write route changes or
  deletes an audit event.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from flask import current_app
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from tests.conftest import PASSWORD
from web.extensions import db
from web.models import (
    AuditEvent,
    Base,
    FollowUp,
    Placement,
    PlacementEvent,
    Plan,
    PostRequest,
    Region,
)
from web.services.accounts import audit
from web.services.reports import REPORTS
from web.services.uploads import save, upload_dir

ROLES = ("anonymous", "cadre", "employer", "office")
ALL = frozenset({"cadre", "employer", "office"})
PEOPLE = frozenset({"cadre", "office"})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Who may use each API blueprint (or one endpoint of it); the rest get 403 (or 404, hiding it).
API_ROLES = {
    "api_households": PEOPLE,
    "api_laborers": PEOPLE,
    "api_employers": ALL,
    "api_openings": ALL,
    "api_batches": ALL,
    "api_welfare_posts": PEOPLE,  # attendance: cadres and offices
    "api_welfare_posts.Payroll": frozenset({"office"}),
    "api_welfare_posts.Terms": frozenset({"office"}),
    "api_welfare_posts.TermStep": frozenset({"office"}),
    "api_welfare_posts.Flags": frozenset({"office"}),
    "api_matching.LaborerMatches": PEOPLE,
    "api_matching.WelfarePostCandidates": PEOPLE,
    "api_matching.PlacementText": PEOPLE,
    "api_matching": ALL,
    "api_plans": frozenset({"office"}),
    "api_learning": frozenset({"office"}),
    "api_stats": PEOPLE,
    "api_messages": ALL,  # everyone reads their own inbox
    "api_post_requests": PEOPLE,
    "api_transport.Handover": frozenset({"employer", "office"}),  # a batch's handover: its employer, the office
    "api_transport": frozenset({"office"}),  # the transport subsidy ledger
    "api_watch": PEOPLE,  # follow-ups and verifications (issue 13, parts 5 and 7)
}
#: Who may use each page blueprint (or one endpoint of it).
PAGE_ROLES = {
    "cadre": frozenset({"cadre"}),
    "employer": frozenset({"employer"}),
    "office": frozenset({"office"}),
    "dashboard.index": frozenset({"office"}),
    "dashboard": PEOPLE,
    "auth.password": frozenset({"cadre", "employer", "office"}),  # everyone changes their own
    "inbox": ALL,  # everyone reads their own messages
}
#: The static files, under their plain and their hashed names, and the favicon (web.assets).
STATIC_FILES = {"static", "hashed_static", "favicon"}
#: Routes anyone may open.
PUBLIC = {
    "main.index",
    "main.health",
    "main.set_language",
    "auth.login",
    "api-docs.openapi_json",
    *STATIC_FILES,
}
#: Writes the sweep must not make: they end the sweeping user's session or token.
NOT_SWEPT = {"auth.logout", "api_auth.Token"}

#: URL parameter → the kind of record whose id it takes.
ID_PARAMS = {
    "household_id": "household",
    "laborer_id": "laborer",
    "employer_id": "employer",
    "opening_id": "opening",
    "batch_id": "batch",
    "post_id": "welfare_post",
    "placement_id": "placement",
    "follow_up_id": "follow_up",
    "plan_id": "plan",
    "request_id": "post_request",
    "event_id": "import",  # an import's page: only the cadre who ran it opens it
    "token": "upload",  # an import's refused rows: only the cadre who uploaded them downloads them
}
#: Ids no record has.
MISSING = {kind: 999_999 for kind in set(ID_PARAMS.values())} | {"upload": "no-such-upload"}
#: Other URL parameters and the value the sweep gives them.
# (An assignment is reached through its plan: the plan id decides the scope, so any assignment id will do.)
FIXED_PARAMS = {"to": "declined", "status": "closed", "name": "batch-manifest", "code": "en", "assignment_id": 1}
#: Routes that take a record id in the query string instead: endpoint → (argument, kind).
QUERY_IDS = {"dashboard.report": ("batch", "batch"), "dashboard.report_xlsx": ("batch", "batch")}

OUTSIDE = "OUTSIDE"  # in every out-of-scope record's name: it must never reach anyone
NEIGHBOUR = "NEIGHBOUR"  # a household of the cadre's county but not of their village
POVERTY_WORDS = ("registered_poor", "monitored", "non_poor", "建档立卡", "监测户", "非贫困户")

FAR = (37.74, 112.56)  # 太原市小店区: far from Daning, so out-of-scope people are nobody's candidates


@dataclass
class World:
    """Records in and out of each role's scope, the users, and what must never leak to whom."""

    inside: dict[str, int]
    outside: dict[str, dict[str, int]]  # role → kind → id
    users: dict[str, object]
    secrets: dict[str, list[str]] = field(default_factory=dict)  # role → strings never shown


def _far_regions() -> None:
    lat, lon = FAR
    for code, name, level, parent in (
        ("1401", "太原市", "city", "14"),
        ("140105", "小店区", "county", "1401"),
        ("140105001", "小店街道", "township", "140105"),
        ("140105001201", "OUTSIDE村", "village", "140105001"),
    ):
        db.session.merge(
            Region(code=code, name=name, level=level, parent_code=parent, lat=lat, lon=lon, position_source="gazetteer")
        )
    db.session.flush()


def _placement(laborer, status="offered", **target) -> Placement:
    row = Placement(laborer_id=laborer.id, household_id=laborer.household_id, status=status, **target)
    if status == "working":
        row.started_on = date.today() - timedelta(days=10)
    row.events.append(PlacementEvent(from_status=None, to_status=status))
    db.session.add(row)
    db.session.flush()
    return row


def _post_request(laborer, seq: int, county: str = "141030") -> PostRequest:
    """A household's open request for a welfare post, made today."""
    row = PostRequest(
        household_id=laborer.household_id,
        laborer_id=laborer.id,
        county_code=county,
        receipt_year=date.today().year,
        receipt_seq=seq,
        requested_on=date.today(),
        due_on=date.today() + timedelta(days=15),
        note=f"{laborer.name}的申请",
    )
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
def world(factory) -> World:
    """安古村 (A, everyone's scope), 白村 (the cadre's county, not their village), 小店区 (nobody's)."""
    _far_regions()
    far = "140105001201"
    lat, lon = FAR
    # A: inside every role's scope.
    household = factory.household()
    laborer = factory.laborer(household, phone="13911110001", name="本村劳动力")
    employer = factory.employer()
    opening = factory.opening(employer)
    batch = factory.batch(employer)
    post = factory.welfare_post()
    p_opening = _placement(laborer, opening_id=opening.id)
    _placement(laborer, batch_id=batch.id)
    _placement(laborer, "working", welfare_post_id=post.id)
    plan = Plan(region_code="141030", mode="greedy", status="queued")
    # C: the neighbouring village, in the office's region and the cadre's county.
    n_household = factory.household("141030100202", head_name=f"{NEIGHBOUR}户主")
    n_laborer = factory.laborer(n_household, phone="13911110002", name=f"{NEIGHBOUR}劳动力")
    n_placement = _placement(n_laborer, opening_id=opening.id)
    # B: another county far away, nobody's scope.
    o_household = factory.household(far, head_name=f"{OUTSIDE}户主", lat=lat, lon=lon)
    o_laborer = factory.laborer(o_household, phone="13911110003", name=f"{OUTSIDE}劳动力")
    o_employer = factory.employer(name=f"{OUTSIDE}车间", region_code=far, lat=lat, lon=lon)
    o_opening = factory.opening(o_employer, title=f"{OUTSIDE}岗位")
    o_batch = factory.batch(o_employer, title=f"{OUTSIDE}专车", region_code="140105")
    o_batch.pickup_points[0].region_code = "140105001"
    o_post = factory.welfare_post(title=f"{OUTSIDE}公益岗", region_code=far, lat=lat, lon=lon)
    o_placement = _placement(o_laborer, opening_id=o_opening.id)
    o_plan = Plan(region_code="140105", mode="greedy", status="queued")
    db.session.add_all([plan, o_plan])
    day = date.today()
    follow_ups = [
        FollowUp(household_id=h.id, reason="long_without_work", flagged_on=day, due_on=day)
        for h in (household, n_household, o_household)
    ]
    db.session.add_all(follow_ups)
    db.session.flush()
    request, n_request, o_request = (
        _post_request(laborer, 1),
        _post_request(n_laborer, 2),
        _post_request(o_laborer, 1, county="140105"),
    )
    users = {
        "cadre": factory.user("cadre"),
        "employer": factory.user("employer", employer_id=employer.id),
        "office": factory.user("office"),
    }
    db.session.flush()
    # An import by the cadre, and one by somebody else; the refused rows of an upload, likewise.
    imported = audit(db.session, "import", user=users["cadre"], laborer_ids=[laborer.id], household_ids=[household.id])
    o_imported = audit(db.session, "import", user=users["office"], laborer_ids=[o_laborer.id])
    db.session.commit()
    folder = upload_dir(current_app.instance_path)
    upload, _ = save(folder, users["cadre"].id, _refused_rows(), ".xlsx")
    o_upload, _ = save(folder, users["office"].id, _refused_rows(), ".xlsx")

    inside = {
        "import": imported.id,
        "upload": upload,
        "household": household.id,
        "laborer": laborer.id,
        "employer": employer.id,
        "opening": opening.id,
        "batch": batch.id,
        "welfare_post": post.id,
        "placement": p_opening.id,
        "follow_up": follow_ups[0].id,
        "plan": plan.id,
        "post_request": request.id,
    }
    far_ids = {
        "import": o_imported.id,
        "upload": o_upload,
        "household": o_household.id,
        "laborer": o_laborer.id,
        "employer": o_employer.id,
        "opening": o_opening.id,
        "batch": o_batch.id,
        "welfare_post": o_post.id,
        "placement": o_placement.id,
        "follow_up": follow_ups[2].id,
        "plan": o_plan.id,
        "post_request": o_request.id,
    }
    neighbour = {
        **far_ids,
        "household": n_household.id,
        "laborer": n_laborer.id,
        "placement": n_placement.id,
        "post_request": n_request.id,
    }
    neighbour = {
        **far_ids,
        "household": n_household.id,
        "laborer": n_laborer.id,
        "placement": n_placement.id,
        "follow_up": follow_ups[1].id,
    }
    full_ids = [laborer.id_number, n_laborer.id_number, o_laborer.id_number]
    phones = ["13911110001", "13911110002", "13911110003"]
    return World(
        inside=inside,
        outside={"cadre": neighbour, "employer": far_ids, "office": far_ids, "anonymous": far_ids},
        users=users,
        secrets={
            "anonymous": [OUTSIDE, NEIGHBOUR, *full_ids, *phones],
            "cadre": [OUTSIDE, NEIGHBOUR, *full_ids[1:], *phones[1:]],
            "employer": [OUTSIDE, *full_ids, *phones, *POVERTY_WORDS],
            # One record read on its own shows an office the full ID number (services.disclosure).
            "office": [OUTSIDE, *full_ids[1:], *phones[1:]],
        },
    )


@pytest.fixture
def clients(app, world, api_token):
    """role → (page client logged in through the form, API headers with a live token)."""
    made = {"anonymous": (app.test_client(), {})}
    for role, user in world.users.items():
        pages = app.test_client()
        _fresh()
        response = pages.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302
        made[role] = (pages, api_token(user))
    return made


def _owners(endpoint: str) -> frozenset[str] | None:
    """The roles that may use a route; None for public routes."""
    if endpoint in PUBLIC or endpoint.startswith("api-docs."):
        return None
    table = API_ROLES if endpoint.startswith("api_") else PAGE_ROLES
    for key in (endpoint, endpoint.split(".")[0]):
        if key in table:
            return table[key]
    pytest.fail(f"route {endpoint} is not in the sweep's tables: say which roles may use it")


def _kind_of(rule, name: str) -> str:
    if name in ID_PARAMS:
        return ID_PARAMS[name]
    if name == "target_id":
        for prefix, kind in (("/openings/", "opening"), ("/batches/", "batch"), ("/welfare-posts/", "welfare_post")):
            if prefix in rule.rule:
                return kind
    pytest.fail(f"route {rule.rule}: the sweep does not know what <{name}> takes")


def _url(app, rule, ids: dict[str, int] | None) -> str:
    """The rule's URL with ids from `ids` (None: a route without ids)."""
    values = {}
    for name in rule.arguments:
        if name in FIXED_PARAMS:
            values[name] = FIXED_PARAMS[name]
        else:
            values[name] = ids[_kind_of(rule, name)]
    if rule.endpoint in QUERY_IDS and ids is not None:
        argument, kind = QUERY_IDS[rule.endpoint]
        values[argument] = ids[kind]
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _has_ids(rule) -> bool:
    return bool(set(rule.arguments) - set(FIXED_PARAMS)) or rule.endpoint in QUERY_IDS


def _text(response) -> str:
    """What a person would read in the answer: the page, the JSON, or every cell of an XLSX file."""
    if response.mimetype == XLSX:
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
    return response.get_data(as_text=True)


def _fresh() -> None:
    """The `app` fixture keeps one app context open across requests, and with it `g`, where
    Flask-Login caches the user of the last request; a real server starts each request afresh."""
    from flask import g

    g.pop("_login_user", None)


def _get(clients, role: str, url: str):
    _fresh()
    pages, headers = clients[role]
    return pages.get(url, headers=headers if url.startswith("/api/") else {})


def _check_nothing_leaks(role: str, url: str, response, world: World) -> None:
    text = _text(response)
    if url.endswith("/openapi.json"):
        text = text.replace("registered_poor", "").replace("monitored", "").replace("non_poor", "")
    for secret in world.secrets[role]:
        assert secret not in text, f"{role} GET {url} shows {secret!r}"


def _swept_rules(app, methods: set[str]):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in STATIC_FILES or rule.endpoint in NOT_SWEPT:
            continue
        for method in sorted((rule.methods or set()) & methods):
            yield rule, method


def test_every_get_route_for_every_role(app, world, clients):
    checked = 0
    for rule, _method in _swept_rules(app, {"GET"}):
        owners = _owners(rule.endpoint)
        with_ids = _has_ids(rule)
        for role in ROLES:
            inside = _url(app, rule, world.inside if with_ids else None)
            answer_in = _get(clients, role, inside)
            assert answer_in.status_code < 500, (role, inside)
            _check_nothing_leaks(role, inside, answer_in, world)
            answer_out = None
            if with_ids:
                outside = _url(app, rule, world.outside[role])
                answer_out = _get(clients, role, outside)
                _check_nothing_leaks(role, outside, answer_out, world)
            checked += 1
            if owners is None:
                continue
            where = f"{role} GET {rule.rule}"
            if role == "anonymous":
                for answer in filter(None, (answer_in, answer_out)):
                    if rule.rule.startswith("/api/"):
                        assert answer.status_code == 401 and answer.json["error"]["status"] == 401, where
                    else:
                        assert answer.status_code == 302 and "/login" in answer.location, where
            elif role in owners:
                assert answer_in.status_code in (200, 302), (where, answer_in.status_code)
                if answer_out is not None:
                    assert answer_out.status_code == 404, (where, answer_out.status_code)
            else:
                assert answer_in.status_code in (403, 404), (where, answer_in.status_code)
                if answer_out is not None:
                    # Forbidden roles get the same answer whether or not the record is theirs to see.
                    assert answer_out.status_code == answer_in.status_code, where
    # Every route that exists was checked for each of the four roles.
    assert checked >= 4 * 60


def _table_rows() -> dict[str, list[tuple]]:
    """Every row of every table but the audit trail (which may only grow)."""
    db.session.expire_all()
    rows = {}
    for table in Base.metadata.sorted_tables:
        if table.name in ("audit_event", "api_token"):
            continue
        rows[table.name] = sorted(tuple(map(repr, row)) for row in db.session.execute(select(table)))
    return rows


def _audit_rows() -> list[tuple]:
    db.session.expire_all()
    return [tuple(map(repr, row)) for row in db.session.execute(select(AuditEvent.__table__).order_by(AuditEvent.id))]


def _write(clients, role: str, method: str, url: str):
    _fresh()
    pages, headers = clients[role]
    if url.startswith("/api/"):
        return pages.open(url, method=method, json={}, headers=headers)
    return pages.open(url, method=method, data={})


def test_writes_to_out_of_scope_records_change_nothing_and_audit_is_append_only(app, world, clients):
    """Every POST/PATCH/DELETE route with an id, called by every role with an out-of-scope id: refused,
    nothing written. Then with in-scope ids: whatever it writes, no audit event is changed or removed."""
    before, audit_before = _table_rows(), _audit_rows()
    writes = [
        (rule, method) for rule, method in _swept_rules(app, {"POST", "PATCH", "DELETE", "PUT"}) if _has_ids(rule)
    ]
    assert writes
    for rule, method in writes:
        for role in ROLES:
            url = _url(app, rule, world.outside[role])
            answer = _write(clients, role, method, url)
            missing = _write(clients, role, method, _url(app, rule, MISSING))
            assert answer.status_code not in (200, 201, 204), (role, method, url)
            # Refused exactly as a record that does not exist is: no hint that it does.
            assert answer.status_code == missing.status_code, (role, method, url, answer.status_code)
    assert _table_rows() == before, "a write to an out-of-scope record changed something"
    assert _audit_rows()[: len(audit_before)] == audit_before
    for rule, method in writes:
        for role in ROLES:
            answer = _write(clients, role, method, _url(app, rule, world.inside))
            assert answer.status_code < 500, (role, method, rule.rule)
    after = _audit_rows()
    assert after[: len(audit_before)] == audit_before, "an audit event was changed or deleted"
    assert len(after) >= len(audit_before)


def test_no_route_edits_the_audit_trail(app):
    """No route's endpoint is about the audit trail except the office's read-only search page."""
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert (rule.methods or set()) - {"GET", "HEAD", "OPTIONS"} == set(), rule.rule


@pytest.mark.parametrize(
    "report",
    ["households-without-work", "workshop-recognition", "batch-manifest", "welfare-roster", "placements-by-channel"],
)
def test_reports_and_their_exports_keep_to_the_scope(app, world, clients, report):
    for role in ROLES:
        for suffix in ("", ".xlsx"):
            url = f"/reports/{report}{suffix}"
            answer = _get(clients, role, url)
            _check_nothing_leaks(role, url, answer, world)
            if role == "anonymous":
                assert answer.status_code == 302
            elif role == "employer":
                assert answer.status_code == 403
            else:
                assert answer.status_code == 200, (role, url)
                assert _get(clients, role, f"{url}?region=140105").status_code == 404
    # Exports mask ID numbers and phones unless full ones are asked for.
    if report == "welfare-roster":
        for role in ("office", "cadre"):
            assert "139****0001" in _text(_get(clients, role, "/reports/welfare-roster.xlsx"))
            assert "13911110001" in _text(_get(clients, role, "/reports/welfare-roster.xlsx?full_ids=1"))


def test_a_batch_manifest_of_another_county_is_not_found(world, clients):
    theirs = world.outside["office"]["batch"]
    for role in ("cadre", "office"):
        assert _get(clients, role, f"/reports/batch-manifest?batch={theirs}").status_code == 404
        assert _get(clients, role, f"/reports/batch-manifest.xlsx?batch={theirs}").status_code == 404
        assert _get(clients, role, f"/reports/batch-manifest?batch={world.inside['batch']}").status_code == 200
        assert _get(clients, role, "/reports/batch-manifest?batch=999999").status_code == 404


def test_employer_manifest_masks_people_hides_poverty_and_is_audited(world, clients):
    answer = _get(clients, "employer", f"/employer/batches/{world.inside['batch']}/manifest.xlsx")
    cells = _text(answer)
    # No ID digits at all, and no phone while the offer is not accepted.
    assert answer.status_code == 200 and "本村劳动力" in cells and "0001" not in cells and "142633" not in cells
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert event.entity_type == "transport_batch" and event.entity_id == str(world.inside["batch"])
    assert event.user_id == world.users["employer"].id


def test_employer_candidates_never_show_poverty_status(world, clients):
    for url in (
        f"/employer/openings/{world.inside['opening']}",
        f"/employer/batches/{world.inside['batch']}",
        f"/api/v1/openings/{world.inside['opening']}/candidates",
    ):
        text = _get(clients, "employer", url).get_data(as_text=True)
        assert not any(word in text for word in POVERTY_WORDS), url


#: role → (regions inside its area, regions outside it), for the report, dashboard and stats routes.
#: A cadre's report narrows to their villages inside any region that holds one; their figures are
#: those of their own village only. An office reads anything inside its county.
REGIONS = {
    "anonymous": (["141030"], ["140105"]),
    "employer": (["141030", "141030100201"], ["140105"]),
    "cadre": (["141030100201", "141030100", "141030", "14"], ["141030100202", "141030101", "140105", "x1"]),
    "office": (["141030", "141030100", "141030100201", "141030100202"], ["14", "1401", "140105", "140105001201", "x1"]),
}


def _regions(role: str):
    inside, outside = REGIONS[role]
    return [(code, True) for code in inside] + [(code, False) for code in outside]


@pytest.mark.parametrize("report", REPORTS)
def test_report_routes_with_regions_in_and_out_of_each_roles_scope(world, clients, report):
    for role in ROLES:
        for region, is_inside in _regions(role):
            for suffix in ("", ".xlsx"):
                url = f"/reports/{report}{suffix}?region={region}"
                answer = _get(clients, role, url)
                _check_nothing_leaks(role, url, answer, world)
                if role == "anonymous":
                    expected = 302
                elif role == "employer":
                    expected = 403
                else:
                    expected = 200 if is_inside else 404
                assert answer.status_code == expected, (role, url, answer.status_code)
                if expected == 200 and suffix:
                    assert answer.mimetype == XLSX


def test_dashboard_and_stats_with_regions_in_and_out_of_each_roles_scope(world, clients):
    """The dashboard is the offices'; figures through the API are also a cadre's, of their own village."""
    own_village_figures = {"cadre": {"141030100201"}, "office": set(REGIONS["office"][0])}
    for role in ROLES:
        for region, _ in _regions(role):
            page = _get(clients, role, f"/dashboard?region={region}")
            _check_nothing_leaks(role, f"/dashboard?region={region}", page, world)
            expected = {"anonymous": 302, "cadre": 403, "employer": 403}.get(role)
            if role == "office":
                expected = 200 if region in own_village_figures["office"] else 404
            assert page.status_code == expected, (role, region, page.status_code)
            if not region.isdigit():
                continue  # the API's schema refuses a malformed code before any scope is asked
            api = _get(clients, role, f"/api/v1/stats?region={region}")
            expected = {"anonymous": 401, "employer": 403}.get(role)
            if role in own_village_figures:
                expected = 200 if region in own_village_figures[role] else 404
            assert api.status_code == expected, (role, region, api.status_code)
            if expected == 200:
                assert api.json["region_code"] == region
