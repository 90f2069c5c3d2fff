"""schemathesis (v4) against the generated OpenAPI schema, through WSGI: on every operation,
anonymous and with a focal point's token, no 5xx and every answer as documented.

``make test`` runs a bounded number of examples per operation (API_FUZZ_EXAMPLES, default 10);
``make fuzz`` runs many more."""

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer as JSONRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import services as account_services
from tests import factories

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _schema():
    """The schema /api/v1/schema/ serves, generated without a database at collection time
    (schemathesis' fixture-based loader does not support pytest 9 yet)."""
    spec = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(JSONRenderer().render(spec)))
    loaded.app = get_wsgi_application()
    return loaded


schema = _schema()


@pytest.fixture
def token(focal_point) -> str:
    _token, secret = account_services.api_token_create(user=focal_point, name="fuzz")
    return secret


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """A real WSGI request closes the database connection when it ends; in a test that would
    close the test's transaction (Django's own test client disconnects the same handler)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _rows(db, focal_point, argentina):
    """Something to read, change and moderate, so that the examples meet real rows."""
    factories.ListingFactory(institution=focal_point.institution, external_ref="PER-1")
    factories.ListingFactory(institution=focal_point.institution, status="draft")
    factories.ListingFactory(institution=argentina, kind="need", relations__sdgs=[6])


fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@fuzz_settings
def test_anonymous(case):
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@fuzz_settings
def test_with_a_token(case, token):
    case.call_and_validate(checks=CHECKS, headers={"Authorization": f"Token {token}"})
