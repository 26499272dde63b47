"""Property tests of the whole API from its own OpenAPI schema (schemathesis).

Every operation gets at least 100 generated requests, as the administrator (who may call all of
them): no response may be a server error (5xx) and every response must match the schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _schema():  # type: ignore[no-untyped-def]
    from django.core.wsgi import get_wsgi_application

    # The live schema, served by the application itself (no database needed to serve it).
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


schema = _schema()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():  # type: ignore[no-untyped-def]
    """As Django's test client does: the WSGI calls must not close the test transaction's
    connection at the end of each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_and_every_response_matches_the_schema(case, world):  # type: ignore[no-untyped-def]
    case.call_and_validate(
        headers=world.auth("admin"),
        checks=[not_a_server_error, response_schema_conformance],
    )
