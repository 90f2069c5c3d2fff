"""Who may do what with accounts and institutions: the named predicates every interface uses.

Services check these before writing; views, the admin and the API name the same permission
strings, so a rule lives here once. Other apps build on the role predicates below.
"""

from __future__ import annotations

import rules

from accounts.models import Institution, User

Role = User.Role


def _has_role(user, role: str) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role == role)


@rules.predicate
def is_secretariat(user) -> bool:
    return _has_role(user, Role.SECRETARIAT) and user.is_staff


@rules.predicate
def is_board_member(user) -> bool:
    return _has_role(user, Role.BOARD_MEMBER)


@rules.predicate
def is_focal_point(user) -> bool:
    return _has_role(user, Role.FOCAL_POINT) and user.institution_id is not None


@rules.predicate
def is_delegate(user) -> bool:
    return _has_role(user, Role.DELEGATE) and user.institution_id is not None


@rules.predicate
def is_mission_liaison(user) -> bool:
    return _has_role(user, Role.MISSION_LIAISON) and user.institution_id is not None


@rules.predicate
def is_vetted_partner(user) -> bool:
    return (
        _has_role(user, Role.PARTNER)
        and user.institution_id is not None
        and user.institution.vetting_status == Institution.Vetting.VETTED
    )


@rules.predicate
def is_partner_awaiting_vetting(user) -> bool:
    return (
        _has_role(user, Role.PARTNER)
        and user.institution_id is not None
        and user.institution.vetting_status == Institution.Vetting.PENDING
    )


@rules.predicate
def is_rejected_partner(user) -> bool:
    return (
        _has_role(user, Role.PARTNER)
        and user.institution_id is not None
        and user.institution.vetting_status == Institution.Vetting.REJECTED
    )


def _institution_of(target) -> Institution | None:
    """The institution a target belongs to: itself, or the institution of a user/invitation."""
    if target is None:
        return None
    if isinstance(target, Institution):
        return target
    return getattr(target, "institution", None)


@rules.predicate
def is_focal_point_of(user, target) -> bool:
    institution = _institution_of(target)
    return bool(is_focal_point(user) and institution and user.institution_id == institution.pk)


@rules.predicate
def is_member_of(user, target) -> bool:
    """Acts for the institution: its focal point, one of its delegates or a vetted partner."""
    institution = _institution_of(target)
    if not institution or getattr(user, "institution_id", None) != institution.pk:
        return False
    return bool(is_focal_point(user) or is_delegate(user) or is_vetted_partner(user))


is_staff_reader = is_secretariat | is_board_member

# --- Actions --------------------------------------------------------------------------------

rules.add_perm("accounts.designate_focal_point", is_secretariat)
rules.add_perm("accounts.vet_partner", is_secretariat)
rules.add_perm("accounts.invite_staff", is_secretariat)
rules.add_perm("accounts.invite_delegate", is_focal_point_of)
rules.add_perm("accounts.revoke_delegate", is_focal_point_of)
rules.add_perm("accounts.edit_institution_profile", is_member_of)
rules.add_perm("accounts.view_institution_members", is_member_of | is_staff_reader)
rules.add_perm("accounts.view_designation_dashboard", is_staff_reader)
rules.add_perm("accounts.use_inbox", rules.is_authenticated & rules.is_active)


@rules.predicate
def owns_token(user, token) -> bool:
    return token is not None and token.user_id == user.pk


rules.add_perm("accounts.create_api_token", rules.is_authenticated & rules.is_active)
rules.add_perm("accounts.revoke_api_token", owns_token | is_secretariat)

# --- The admin: the Secretariat manages, board members read ---------------------------------

rules.add_perm("accounts", is_staff_reader)
for model in ("country", "institution", "user", "invitation", "notification", "apitoken"):
    rules.add_perm(f"accounts.view_{model}", is_staff_reader)
    for action in ("add", "change", "delete"):
        rules.add_perm(f"accounts.{action}_{model}", is_secretariat)
