"""Every role x listing action through the API: the same rules as the web (exchange/rules.py).
Anonymous writes are 401, a listing the person may not see is 404, a visible one it may not
touch is 403."""

import pytest

from exchange.models import Listing
from tests import factories
from tests.api.conftest import COMPLETE

pytestmark = pytest.mark.django_db

ROLES = [
    "visitor",
    "focal_point",
    "delegate",
    "mission_liaison",
    "partner",
    "pending_partner",
    "board_member",
    "secretariat",
    "other_focal_point",
]

# action: (method, url template, target listing, payload, {role: status}); unlisted roles 403.
ACTIONS = {
    "create offer": (
        "post",
        "/api/v1/offers/",
        None,
        "draft",
        {
            "focal_point": 201,
            "delegate": 201,
            "mission_liaison": 201,
            "partner": 201,
            "other_focal_point": 201,
        },
    ),
    "create need": (
        "post",
        "/api/v1/needs/",
        None,
        "draft",
        {"focal_point": 201, "delegate": 201, "mission_liaison": 201, "other_focal_point": 201},
    ),
    "edit draft": (
        "patch",
        "/api/v1/offers/{pk}/",
        "draft",
        {"title": "Nuevo título"},
        {
            "focal_point": 200,
            "delegate": 200,
            "mission_liaison": 200,
            "partner": 404,
            "pending_partner": 404,
            "other_focal_point": 404,
        },
    ),
    # A published listing's change waits for the Secretariat (202); everybody sees it, so
    # those who may not change it get 403.
    "edit published": (
        "patch",
        "/api/v1/offers/{pk}/",
        "published",
        {"title": "Nuevo título"},
        {"focal_point": 202, "delegate": 202},
    ),
    "submit draft": (
        "post",
        "/api/v1/offers/{pk}/submit/",
        "draft",
        {"acknowledge_similar": True},
        {
            "focal_point": 200,
            "delegate": 200,
            "partner": 404,
            "pending_partner": 404,
            "other_focal_point": 404,
        },
    ),
    "withdraw published": (
        "post",
        "/api/v1/offers/{pk}/withdraw/",
        "published",
        {},
        {"focal_point": 200, "delegate": 200},
    ),
    "approve submitted": (
        "post",
        "/api/v1/offers/{pk}/approve/",
        "submitted",
        {},
        {"secretariat": 200, "partner": 404, "pending_partner": 404, "other_focal_point": 404},
    ),
    "return submitted": (
        "post",
        "/api/v1/offers/{pk}/return/",
        "submitted",
        {"comment": "Precisen el costo."},
        {"secretariat": 200, "partner": 404, "pending_partner": 404, "other_focal_point": 404},
    ),
    "reject submitted": (
        "post",
        "/api/v1/offers/{pk}/reject/",
        "submitted",
        {"comment": "Fuera de alcance."},
        {"secretariat": 200, "partner": 404, "pending_partner": 404, "other_focal_point": 404},
    ),
    "sync offer by ref": (
        "put",
        "/api/v1/offers/by-ref/REF-1/",
        None,
        "complete",
        {"focal_point": 201, "delegate": 201, "partner": 201, "other_focal_point": 201},
    ),
    "sync need by ref": (
        "put",
        "/api/v1/needs/by-ref/REF-1/",
        None,
        "complete",
        {"focal_point": 201, "delegate": 201, "other_focal_point": 201},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_role_action(role, action, role_users, other_focal_point, peru, api, api_as, draft_payload):
    method, url, target, payload, allowed = ACTIONS[action]
    users = {**role_users, "other_focal_point": other_focal_point}
    listing = (
        factories.ListingFactory(institution=peru, status=target, title=f"Oferta {target}")
        if target
        else None
    )
    if payload == "draft":
        payload = draft_payload()
    elif payload == "complete":
        payload = draft_payload(**COMPLETE)
    client = api if role == "visitor" else api_as(users[role])
    before = Listing.objects.count()
    response = getattr(client, method)(
        url.format(pk=listing.pk if listing else ""), payload, format="json"
    )
    expected = 401 if role == "visitor" else allowed.get(role, 403)
    assert response.status_code == expected, response.content
    if expected >= 400:
        body = response.json()
        assert body["type"] == "client_error"
        assert body["errors"][0]["detail"]
        assert Listing.objects.count() == before
        if listing:
            status = listing.status
            listing.refresh_from_db()
            assert (listing.status, listing.title) == (status, f"Oferta {target}")
