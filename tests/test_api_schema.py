"""Schemathesis drives every operation of /api/v1/openapi.json against the app: no input gives a
500, and every answer matches the document (status code, content type, body schema)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from leads import accounts
from leads.extensions import db
from leads.models import Role
from tests.factories import receive

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def bearer(clocked_app, clock):
    coordinator = accounts.create_coordinator(
        db.session, email="sam@riverside.example", password="a long pass phrase", role=Role.ADMIN
    )
    token = accounts.create_api_token(db.session, coordinator)
    receive(clock())  # one real lead, so list and message answers carry items to check
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_every_operation_answers_as_documented(clocked_app, bearer):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", clocked_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers_as_documented(case):
            case.call_and_validate(headers=bearer, checks=CHECKS)

        answers_as_documented()
