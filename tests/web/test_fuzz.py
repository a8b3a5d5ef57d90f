"""Schemathesis against /api/v1/openapi.json: no 5xx, and every answer matches the documented schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from web.extensions import db

#: Bounded so that the suite stays fast; every operation gets at most this many examples.
EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def api_schema(app, factory):
    """The API's own OpenAPI document, loaded from the app, over a small county of records."""
    opening = factory.opening()
    factory.batch()
    factory.welfare_post()
    for _ in range(3):
        factory.laborer()
    factory.user("office", username="fuzz-office")
    factory.user("employer", username="fuzz-employer", employer_id=opening.employer_id)
    factory.user("cadre", username="fuzz-cadre")
    db.session.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def bearer(client, api_token):
    """A function: the Authorization header of a fuzzing user of the given role."""
    from web.models import User

    def header(username: str) -> dict[str, str]:
        return api_token(db.session.scalar(db.select(User).where(User.username == username)))

    return header


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _fuzz(api_schema, headers: dict[str, str]) -> dict[str, int]:
    """Run every operation of the document with generated cases; return examples run per operation."""
    counts: dict[str, int] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        _fuzz_operation(operation, f"{operation.method.upper()} {operation.path}", headers, counts)
    return counts


def _fuzz_operation(operation, label: str, headers: dict[str, str], counts: dict[str, int]) -> None:
    """Send one operation its generated cases, counting them under label."""

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy())
    def run(case) -> None:
        counts[label] = counts.get(label, 0) + 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize("username", ["fuzz-office", "fuzz-employer", "fuzz-cadre"])
def test_api_fuzz(api_schema, bearer, username):
    """Whatever a client of any role sends, the API answers in its documented shape and never with a 5xx."""
    counts = _fuzz(api_schema, bearer(username))
    assert len(counts) >= 20, sorted(counts)  # every resource's operations were exercised
    assert sum(counts.values()) >= 5 * len(counts)
