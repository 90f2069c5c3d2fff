"""API tokens: from e-mail and password (accounts without MFA), on the profile page, revoked."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken
from tests import factories
from tests.conftest import has_totp

pytestmark = pytest.mark.django_db


def _token(api, email, password):
    return api.post("/api/v1/auth/token/", {"email": email, "password": password}, format="json")


def test_password_gives_a_token_that_authenticates(api, focal_point, draft_payload):
    response = _token(api, focal_point.email, factories.PASSWORD)
    assert response.status_code == 200, response.json()
    secret = response.json()["token"]
    assert response.json()["expiry"]
    stored = ApiToken.objects.get(user=focal_point)
    assert secret not in (stored.digest, stored.token_key)  # only a digest is kept
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.post("/api/v1/offers/", draft_payload(), format="json").status_code == 201


def test_wrong_password_is_400_and_gives_nothing(api, focal_point):
    response = _token(api, focal_point.email, "wrong")
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"].startswith("The e-mail address and password")
    assert not ApiToken.objects.exists()


def test_accounts_with_mfa_use_the_profile_page(api, secretariat):
    assert has_totp(secretariat)
    response = _token(api, secretariat.email, factories.PASSWORD)
    assert response.status_code == 403
    assert "two-factor" in response.json()["errors"][0]["detail"]
    assert not ApiToken.objects.exists()


def test_unverified_address_is_refused(api, peru):
    user = factories.UserFactory(email="new@example.org", role="focal_point", institution=peru)
    user.emailaddress_set.update(verified=False)
    assert _token(api, user.email, factories.PASSWORD).status_code == 403


def test_bad_and_revoked_tokens_are_401(api_as, focal_point, draft_payload):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.post("/api/v1/offers/", draft_payload(), format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"

    client = api_as(focal_point)
    assert client.delete("/api/v1/auth/token/current/").status_code == 204
    assert client.post("/api/v1/offers/", draft_payload(), format="json").status_code == 401


@override_settings(API_THROTTLE_RATES={"anonymous": "2/min", "user": "2/min", "token": "2/min"})
def test_throttling_answers_429_in_the_error_shape(api):
    for _ in range(2):
        assert api.get("/api/v1/sdgs/").status_code == 200
    response = api.get("/api/v1/sdgs/")
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_profile_page_creates_shows_once_and_revokes(client, focal_point):
    client.force_login(focal_point)
    page = client.post("/dashboard/api-tokens/", {"name": "Sync SIGCOOP", "days": "30"})
    assert page.status_code == 200
    secret = page.context["created"]["secret"]
    assert secret in page.content.decode()
    token = ApiToken.objects.get(user=focal_point)
    assert token.name == "Sync SIGCOOP"
    again = client.get("/dashboard/api-tokens/").content.decode()
    assert "Sync SIGCOOP" in again
    assert secret not in again

    confirm = client.get(f"/dashboard/api-tokens/{token.token_key}/revoke/")
    assert b"cannot be undone" in confirm.content
    assert ApiToken.objects.exists()  # nothing happens before the confirmation
    client.post(f"/dashboard/api-tokens/{token.token_key}/revoke/")
    assert not ApiToken.objects.exists()


def test_profile_page_rejects_bad_lifetime(client, focal_point):
    client.force_login(focal_point)
    page = client.post("/dashboard/api-tokens/", {"name": "x", "days": "9999"})
    assert page.status_code == 200
    assert page.context["form"].errors["days"]
    assert not ApiToken.objects.exists()


def test_someone_elses_token_cannot_be_revoked(client, focal_point, delegate):
    token, _secret = services.api_token_create(user=delegate)
    client.force_login(focal_point)
    assert client.post(f"/dashboard/api-tokens/{token.token_key}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_token_pages_need_sign_in(client):
    response = client.get("/dashboard/api-tokens/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("tokens", [1, 3])
def test_token_page_queries_are_constant(client, focal_point, tokens, django_assert_num_queries):
    for n in range(tokens):
        services.api_token_create(user=focal_point, name=f"script {n}")
    client.force_login(focal_point)
    with django_assert_num_queries(4):
        page = client.get("/dashboard/api-tokens/")
    assert len(page.context["tokens"]) == tokens
