"""Two registrations or two imports racing on one ID number or household code: one wins, the other is
refused with a 422 naming the row and field (the same answer as a duplicate that does not race), and
nothing of the loser is kept. On SQLite and on PostgreSQL (JIUYE_TEST_DATABASE_URL), with real
concurrent connections: every request runs in its own thread, released together by a barrier.

On PostgreSQL both requests pass the service's duplicate check and the database's unique index
decides; before each use case ran in a savepoint (web.services.savepoint), the loser of an import
rolled the whole session back and answered 500 (InvalidRequestError: Instance is not persistent).
"""

from __future__ import annotations

import re
import threading
from collections import Counter

from sqlalchemy import func, select

from tests.conftest import PASSWORD
from web.extensions import db
from web.models import Household, Laborer
from web.services import registry

from .pages.conftest import FreshLocaleClient
from .pages.test_import import csv_bytes, row, upload


def _at_once(calls) -> list:
    """Run each call in its own thread, all released together; their results (or the exception)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as error:  # shown in the assertion, never a hung barrier
            results[i] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def committed(model) -> int:
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model))


def _household_body(code: str) -> dict:
    return {"code": code, "village_code": "141030100201", "head_name": "王五", "poverty_status": "registered_poor"}


def _post(app, path: str, headers: dict, body: dict):
    return lambda: app.test_client().post(path, json=body, headers=headers)


def test_two_households_registered_with_one_code_at_once(app, factory, api_token):
    cadres = [factory.user("cadre"), factory.user("cadre")]
    db.session.commit()
    headers = [api_token(cadre) | {"Accept-Language": "en"} for cadre in cadres]
    db.session.remove()

    answers = _at_once([_post(app, "/api/v1/households", h, _household_body("141030100201-0501")) for h in headers])

    assert Counter(getattr(a, "status_code", repr(a)) for a in answers) == Counter({201: 1, 422: 1}), answers
    refused = next(a for a in answers if a.status_code == 422)
    assert refused.json["error"]["fields"] == {"code": ["already registered"]}
    assert committed(Household) == 1


def test_two_laborers_registered_with_one_id_number_at_once(app, factory, api_token):
    household = factory.household()
    cadres = [factory.user("cadre"), factory.user("cadre")]
    db.session.commit()
    headers = [api_token(cadre) | {"Accept-Language": "en"} for cadre in cadres]
    body = {
        "household_id": household.id,
        "name": "李四",
        "id_number": factory.id_number(),
        "physical_ability": "light",
        "work_area": "local",
    }
    db.session.remove()

    answers = _at_once([_post(app, "/api/v1/laborers", h, body) for h in headers])

    assert Counter(getattr(a, "status_code", repr(a)) for a in answers) == Counter({201: 1, 422: 1}), answers
    refused = next(a for a in answers if a.status_code == 422)
    assert refused.json["error"]["fields"] == {"id_number": ["already registered"]}
    assert committed(Laborer) == 1


def test_two_imports_of_the_same_people_committed_at_once(app, factory):
    """Two cadres import the same twelve people, each under household codes of their own (a family that
    moved, registered twice): the first to commit keeps every row, the second none of its rows."""
    cadres = [factory.user("cadre"), factory.user("cadre")]
    numbers = [factory.id_number() for _ in range(12)]
    sheets = [
        csv_bytes(
            [
                row(factory, code=f"141030100201-{prefix}{n:02d}", 姓名=f"赵{n}", 身份证号=number)
                for n, number in enumerate(numbers)
            ]
        )
        for prefix in ("86", "87")
    ]
    db.session.commit()
    app.test_client_class = FreshLocaleClient
    clients, tokens = [], []
    for cadre, sheet in zip(cadres, sheets, strict=True):
        client = app.test_client()
        with app.app_context():  # its own g: Flask-Login keeps the logged-in user there
            assert client.post("/login", data={"username": cadre.username, "password": PASSWORD}).status_code == 302
            page = upload(client, sheet).get_data(as_text=True)
        tokens.append(re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1))
        clients.append(client)
    db.session.remove()

    answers = _at_once(
        [
            lambda c=client, t=token: c.post(
                "/cadre/import/commit", data={"token": t}, headers={"Accept-Language": "en"}
            )
            for client, token in zip(clients, tokens, strict=True)
        ]
    )

    assert Counter(getattr(a, "status_code", repr(a)) for a in answers) == Counter({302: 1, 422: 1}), answers
    page = next(a for a in answers if a.status_code == 422).get_data(as_text=True)
    assert "Nothing was imported" in page
    assert re.search(r"Row 2</strong>:\s*ID number — already registered", page), page
    assert (committed(Household), committed(Laborer)) == (12, 12)


def test_a_duplicate_only_the_database_sees_is_the_same_422(client, factory, api_token, monkeypatch):
    """The check ran before the other registration committed: the unique index refuses the insert."""
    cadre = factory.user("cadre")
    factory.household(code="141030100201-0601")
    db.session.commit()
    headers = api_token(cadre) | {"Accept-Language": "en"}
    monkeypatch.setattr(registry, "_check_household_code", lambda *args, **kwargs: None)

    answer = client.post("/api/v1/households", json=_household_body("141030100201-0601"), headers=headers)

    assert answer.status_code == 422 and answer.json["error"]["fields"] == {"code": ["already registered"]}
    assert committed(Household) == 1
