"""Schemathesis against /api/v1/openapi.json, for each of the three roles: every operation with every
check schemathesis has, positive and negative cases, then its stateful phase (sequences of calls
linked through the ids the answers carry). No 5xx, and every answer matches the documented schema.

`DELETE /auth/token` is left out of the fuzzing (it would revoke the very token the fuzzer uses);
it and `POST /auth/token` are exercised on their own below.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from tests.conftest import PASSWORD
from web.extensions import db

#: Generated cases per operation and role: 3 roles × 38 operations × ~15 = 1,700 cases a run
#: (about a minute on SQLite or PostgreSQL, stateful phase included).
EXAMPLES_PER_OPERATION = 15
#: Stateful scenarios per role, each of at most STATEFUL_STEPS linked calls.
STATEFUL_EXAMPLES, STATEFUL_STEPS = 25, 6
ROLES = ["fuzz-office", "fuzz-employer", "fuzz-cadre"]

#: Every check, configured for this API: a request the schema accepts may still break a rule only
#: the database can check (an unknown household, a region that does not exist), which is a 422.
CONFIG = {
    # Answers are compressed when the client accepts it; schemathesis's WSGI transport does not unpack them.
    "headers": {"Accept-Encoding": "identity"},
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"],
        },
    },
}

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def api_schema(app, factory, api_token):
    """A function: the API's own OpenAPI document, loaded from the app with a role's bearer token as
    its authentication, over a small county of records; and that token's header."""
    from web.models import Placement, User

    opening = factory.opening()
    factory.batch()
    factory.welfare_post()
    laborers = [factory.laborer() for _ in range(3)]
    db.session.add(
        Placement(
            laborer_id=laborers[0].id, household_id=laborers[0].household_id, status="offered", opening_id=opening.id
        )
    )
    factory.user("office", username="fuzz-office")
    factory.user("employer", username="fuzz-employer", employer_id=opening.employer_id)
    factory.user("cadre", username="fuzz-cadre")
    db.session.commit()

    def load(username: str):
        user = db.session.scalar(db.select(User).where(User.username == username))
        token = api_token(user)["Authorization"].split()[1]
        config = {**CONFIG, "auth": {"openapi": {"bearerAuth": {"bearer": token}}}}
        schema = schemathesis.openapi.from_wsgi(
            "/api/v1/openapi.json", app, config=SchemathesisConfig.from_dict(config)
        )
        return schema.exclude(method="DELETE", path="/api/v1/auth/token"), {"Authorization": f"Bearer {token}"}

    return load


#: Ids of records the county holds, by path parameter: a third of the cases use them, so that
#: generated bodies reach the rules behind the 404 of an unknown id.
KNOWN_IDS = {
    "laborer_id": 1,
    "household_id": 1,
    "employer_id": 1,
    "opening_id": 1,
    "batch_id": 1,
    "post_id": 1,
    "placement_id": 1,
    "plan_id": 1,
}


def _cases(operation, headers: dict[str, str]):
    """Positive cases (with known and generated ids) and negative ones, all sent with the role's
    token: a missing or broken token is the auth checks' business (ignored_auth), not every case's."""
    names = re.findall(r"{(\w+)}", operation.path)
    known = {name: KNOWN_IDS.get(name, 1) for name in names}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
        operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
    ]
    if known:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, headers=headers, path_parameters=known))
    return st.one_of(strategies)


def _fuzz(api_schema, headers: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """Run every operation of the document with generated cases: cases run (and answers by status
    class, under "2xx" …), and the first failure of each operation (all of them are collected, so
    that one run shows everything wrong)."""
    counts: dict[str, int] = {}
    failures: dict[str, str] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        _fuzz_operation(operation, f"{operation.method.upper()} {operation.path}", headers, counts, failures)
    return counts, failures


def _fuzz_operation(operation, label: str, headers, counts: dict[str, int], failures: dict[str, str]) -> None:
    @FUZZ_SETTINGS
    @given(case=_cases(operation, headers))
    def run(case) -> None:
        counts[label] = counts.get(label, 0) + 1
        try:
            response = case.call()
            counts[f"{response.status_code // 100}xx"] = counts.get(f"{response.status_code // 100}xx", 0) + 1
            counts[f"s{response.status_code}"] = counts.get(f"s{response.status_code}", 0) + 1
            case.validate_response(response)
        except FailureGroup as failure:
            failures.setdefault(label, str(failure)[:3000])
        except Exception as error:  # noqa: BLE001 - an exception the app let out (a 500 in production)
            failures.setdefault(label, f"{type(error).__name__}: {error}"[:3000])

    run()


@pytest.mark.parametrize("username", ROLES)
def test_api_fuzz(api_schema, username):
    """Whatever a client of any role sends, the API answers in its documented shape and never with a 5xx."""
    counts, failures = _fuzz(*api_schema(username))
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    by_status = {key: counts.pop(key) for key in list(counts) if key.endswith("xx") or key.startswith("s")}
    assert "5xx" not in by_status and by_status["2xx"] >= 25, sorted(by_status.items())  # the token is used
    assert len(counts) >= 30, sorted(counts)  # every operation but DELETE /auth/token was exercised
    assert "DELETE /api/v1/auth/token" not in counts
    assert sum(counts.values()) >= 450, sum(counts.values())  # × 3 roles: at least 1,350 a run


@pytest.mark.parametrize("username", ROLES)
def test_api_stateful(api_schema, username):
    """Sequences of calls linked by the ids the answers carry (create, then read, change, list …)."""
    steps: list[str] = []

    schema, _headers = api_schema(username)

    class Machine(schema.as_state_machine()):
        def after_call(self, response, case):
            super().after_call(response, case)
            steps.append(f"{case.method} {case.path}")

    Machine.run(settings=settings(FUZZ_SETTINGS, max_examples=STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS))
    assert len(steps) >= STATEFUL_EXAMPLES and "DELETE /api/v1/auth/token" not in steps


def test_login_and_logout_through_the_api(client, factory):
    """The routes the fuzzer leaves alone: a token is issued, works, is revoked and then refused."""
    user = factory.user("office")
    db.session.commit()
    wrong = client.post("/api/v1/auth/token", json={"username": user.username, "password": "nope"})
    assert wrong.status_code == 401
    issued = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
    assert issued.status_code == 201
    headers = {"Authorization": f"Bearer {issued.json['token']}"}
    assert client.get("/api/v1/households", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/households", headers=headers).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 401
