"""In the browser: the API docs render under the site's strict CSP, and a focal point creates a
token on the profile page, which a script then uses."""

import pytest
from playwright.sync_api import Page, expect
from rest_framework.test import APIClient

from tests.e2e.test_accounts_flows import submit_password

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_without_csp_violations(page: Page):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CooperaNet API")
    expect(page.get_by_text("/api/v1/offers/by-ref/{external_ref}/").first).to_be_visible()
    assert violations == []


def test_focal_point_creates_a_token_and_a_script_uses_it(page: Page, focal_point, live_server):
    submit_password(page, focal_point.email)
    page.goto("/dashboard/")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    page.get_by_label("Name").fill("Sync SIGCOOP")
    page.get_by_label("Valid for").select_option("30")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").inner_text()
    expect(page.get_by_role("cell", name="Sync SIGCOOP")).to_be_visible()

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = client.get("/api/v1/offers/?status=draft")
    assert response.status_code == 200

    page.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Yes, revoke the token").click()
    expect(page.get_by_text("The token was revoked.")).to_be_visible()
    assert client.get("/api/v1/offers/").status_code == 401
