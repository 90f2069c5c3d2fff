"""The permission matrix of accounts: every role against every action, allowed and denied.

The first table checks the named permissions that views, the admin and services share; the
second drives the services themselves, so a denied person changes nothing.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from accounts import services
from accounts.models import Invitation, User
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

# permission → (object to check against, roles allowed)
MATRIX = {
    "accounts.designate_focal_point": (None, {"secretariat"}),
    "accounts.vet_partner": (None, {"secretariat"}),
    "accounts.invite_staff": (None, {"secretariat"}),
    "accounts.invite_delegate": ("peru", {"focal_point"}),
    "accounts.revoke_delegate": ("delegate", {"focal_point"}),
    "accounts.edit_institution_profile": ("peru", {"focal_point", "delegate"}),
    "accounts.view_institution_members": (
        "peru",
        {"focal_point", "delegate", "board_member", "secretariat"},
    ),
    "accounts.view_designation_dashboard": (None, {"board_member", "secretariat"}),
    "accounts.use_inbox": (
        None,
        set(ROLES) - {"visitor"},
    ),
    "accounts.view_institution": (None, {"board_member", "secretariat"}),
    "accounts.change_institution": (None, {"secretariat"}),
    "accounts.delete_user": (None, {"secretariat"}),
    "exchange.view_focusarea": (None, {"board_member", "secretariat"}),
    "exchange.change_sdg": (None, {"secretariat"}),
    # Imports are followed in the admin, read only.
    "exchange.view_importjob": (None, {"board_member", "secretariat"}),
    "exchange.change_importjob": (None, set()),
    "exchange.delete_importjob": (None, set()),
}


@pytest.fixture
def everyone(role_users, other_focal_point, peru, delegate):
    return {**role_users, "other_focal_point": other_focal_point, "peru": peru}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("permission", sorted(MATRIX))
def test_permission_matrix(everyone, role, permission):
    target_name, allowed = MATRIX[permission]
    target = everyone[target_name] if target_name else None
    assert everyone[role].has_perm(permission, target) is (role in allowed)


def test_partner_edits_only_its_own_profile(partner, peru):
    assert partner.has_perm("accounts.edit_institution_profile", partner.institution) is True
    assert partner.has_perm("accounts.edit_institution_profile", peru) is False


def test_pending_partner_cannot_edit_its_own_profile(pending_partner):
    institution = pending_partner.institution
    assert pending_partner.has_perm("accounts.edit_institution_profile", institution) is False


def test_revoked_delegate_has_no_rights(delegate, peru):
    delegate.is_active = False
    delegate.save()
    assert delegate.has_perm("accounts.edit_institution_profile", peru) is False


# --- The same rules, through the services -----------------------------------------------------


def _designate(user, ctx):
    services.focal_point_designate(
        institution=ctx["chile"], mailbox="new@chile.example.org", by=user
    )


def _vet(user, ctx):
    services.partner_vet(institution=ctx["pending_partner"].institution, by=user)


def _invite_delegate(user, ctx):
    services.delegate_invite(institution=ctx["peru"], email="new@peru.example.org", by=user)


def _revoke_delegate(user, ctx):
    services.delegate_revoke(delegate=ctx["delegate"], by=user)


def _invite_staff(user, ctx):
    services.staff_invite(email="new-board@example.org", role=User.Role.BOARD_MEMBER, by=user)


def _edit_profile(user, ctx):
    services.institution_update_profile(
        institution=ctx["peru"], by=user, website="https://apci.example.org", description="APCI"
    )


def _state(ctx) -> tuple:
    chile, peru = ctx["chile"], ctx["peru"]
    chile.refresh_from_db()
    peru.refresh_from_db()
    ctx["delegate"].refresh_from_db()
    ctx["pending_partner"].institution.refresh_from_db()
    return (
        chile.mailbox,
        chile.designation_status,
        peru.website,
        ctx["delegate"].is_active,
        ctx["pending_partner"].institution.vetting_status,
        Invitation.objects.count(),
    )


SERVICE_MATRIX = {
    "designate_focal_point": (_designate, {"secretariat"}),
    "vet_partner": (_vet, {"secretariat"}),
    "invite_delegate": (_invite_delegate, {"focal_point"}),
    "revoke_delegate": (_revoke_delegate, {"focal_point"}),
    "invite_staff": (_invite_staff, {"secretariat"}),
    "edit_institution_profile": (_edit_profile, {"focal_point", "delegate"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(SERVICE_MATRIX))
def test_service_matrix(everyone, role, action):
    call, allowed = SERVICE_MATRIX[action]
    ctx = {**everyone, "chile": factories.AuthorityFactory(country=factories.country("CHL"))}
    before = _state(ctx)
    if role in allowed:
        call(everyone[role], ctx)
        assert _state(ctx) != before
    else:
        with pytest.raises(PermissionDenied):
            call(everyone[role], ctx)
        assert _state(ctx) == before
