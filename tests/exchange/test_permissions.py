"""The permission matrix of the exchange: every role against every listing action."""

from __future__ import annotations

import pytest

from exchange.models import Connection
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = [
    "visitor",
    "focal_point",
    "other_focal_point",
    "delegate",
    "mission_liaison",
    "partner",
    "pending_partner",
    "board_member",
    "secretariat",
]
PUBLISHERS = {"focal_point", "delegate"}
STAFF = {"board_member", "secretariat"}
ACTING = {"focal_point", "other_focal_point", "delegate", "partner"}

MATRIX = [
    ("exchange.create_listing", None, ACTING | {"mission_liaison"}),
    (
        "exchange.create_need",
        None,
        {"focal_point", "other_focal_point", "delegate", "mission_liaison"},
    ),
    ("exchange.view_listing", "peru_draft", PUBLISHERS | {"mission_liaison"} | STAFF),
    ("exchange.view_listing", "peru_published", set(ROLES)),
    ("exchange.view_listing", "argentine_draft", {"other_focal_point"} | STAFF),
    ("exchange.edit_listing", "peru_draft", PUBLISHERS | {"mission_liaison"}),
    ("exchange.edit_listing", "peru_published", PUBLISHERS),
    ("exchange.edit_listing", "argentine_published", {"other_focal_point"}),
    ("exchange.edit_listing", "partner_published", {"partner"}),
    ("exchange.submit_listing", "peru_draft", PUBLISHERS),
    ("exchange.withdraw_listing", "peru_published", PUBLISHERS),
    ("exchange.renew_listing", "peru_published", PUBLISHERS),
    ("exchange.manage_documents", "peru_draft", PUBLISHERS),
    ("exchange.manage_documents", "peru_published", PUBLISHERS),
    ("exchange.manage_documents", "argentine_published", {"other_focal_point"}),
    (
        "exchange.view_proposed_documents",
        "peru_published",
        PUBLISHERS | {"mission_liaison"} | STAFF,
    ),
    ("exchange.view_proposed_documents", "argentine_published", {"other_focal_point"} | STAFF),
    # A partner based in Peru publishes for itself: Peru's mission liaison neither reads its
    # drafts nor writes them.
    ("exchange.view_listing", "peruvian_partner_draft", STAFF),
    ("exchange.edit_listing", "peruvian_partner_draft", set()),
    ("exchange.view_listing_history", "peruvian_partner_draft", STAFF),
    ("exchange.view_listing_history", "peru_draft", PUBLISHERS | {"mission_liaison"} | STAFF),
    ("exchange.moderate_listing", "peru_draft", {"secretariat"}),
    ("exchange.view_moderation_queue", None, STAFF),
    ("exchange.express_interest", "peru_published", {"other_focal_point", "partner"}),
    ("exchange.express_interest", "peru_draft", set()),
    ("exchange.view_connection", "connection", PUBLISHERS | {"other_focal_point"} | STAFF),
    ("exchange.update_connection", "connection", PUBLISHERS | {"other_focal_point"}),
    ("exchange.view_dashboard_listings", None, ACTING | {"mission_liaison"}),
    ("exchange.view_listing", None, STAFF),
    ("exchange.change_listing", None, {"secretariat"}),
    ("exchange.view_listingrevision", None, STAFF),
]


@pytest.fixture
def objects(peru, argentina, partner, other_focal_point):
    peru_published = factories.ListingFactory(institution=peru)
    return {
        "peru_draft": factories.ListingFactory(institution=peru, status="draft"),
        "peru_published": peru_published,
        "argentine_draft": factories.ListingFactory(institution=argentina, status="draft"),
        "argentine_published": factories.ListingFactory(institution=argentina),
        "partner_published": factories.ListingFactory(institution=partner.institution),
        "peruvian_partner_draft": factories.ListingFactory(
            institution=factories.PartnerInstitutionFactory(country=peru.country),
            status="draft",
        ),
        "connection": Connection.objects.create(
            listing=peru_published,
            institution=argentina,
            created_by=other_focal_point,
            message="Interés",
        ),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("permission", "target", "allowed"), MATRIX, ids=lambda v: str(v))
def test_exchange_permission_matrix(
    role_users, other_focal_point, objects, role, permission, target, allowed
):
    users = {**role_users, "other_focal_point": other_focal_point}
    obj = objects[target] if target else None
    assert users[role].has_perm(permission, obj) is (role in allowed)
