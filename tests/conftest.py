"""Fixtures shared by the whole suite: one person per role, a clean cache, real services."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from accounts.models import Institution, User
from tests import factories

Role = User.Role


@pytest.fixture(autouse=True)
def _reference_data(request, django_db_blocker):
    """The data migrations' rows, back after a transactional test (live server) flushed them."""
    if "django_db_setup" not in request.fixturenames:
        yield
        return
    from django.core.management import call_command

    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():
        from accounts.models import Country

        if not Country.objects.exists():
            call_command("load_reference_data", verbosity=0)
    yield


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    """Rate limits and axes counters live in Redis; every test starts without them."""
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request in another language leaves it active in the thread (LocaleMiddleware does
    not switch back): the next test starts in the default language again."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def peru(db) -> Institution:
    return factories.AuthorityFactory(
        country=factories.country("PER"),
        mailbox="focal-per@example.org",
        designation_status=Institution.Designation.DESIGNATED,
    )


@pytest.fixture
def argentina(db) -> Institution:
    return factories.AuthorityFactory(
        country=factories.country("ARG"),
        mailbox="focal-arg@example.org",
        designation_status=Institution.Designation.DESIGNATED,
    )


@pytest.fixture
def focal_point(peru) -> User:
    return factories.UserFactory(
        email="focal-per@example.org", role=Role.FOCAL_POINT, institution=peru
    )


@pytest.fixture
def other_focal_point(argentina) -> User:
    return factories.UserFactory(
        email="focal-arg@example.org", role=Role.FOCAL_POINT, institution=argentina
    )


@pytest.fixture
def delegate(peru) -> User:
    return factories.UserFactory(email="delegate@example.org", role=Role.DELEGATE, institution=peru)


@pytest.fixture
def mission_liaison(db) -> User:
    mission = factories.MissionFactory(country=factories.country("PER"))
    return factories.UserFactory(
        email="mission@example.org", role=Role.MISSION_LIAISON, institution=mission
    )


@pytest.fixture
def partner(db) -> User:
    institution = factories.PartnerInstitutionFactory(name="Fundación Demo")
    return factories.UserFactory(
        email="partner@example.org", role=Role.PARTNER, institution=institution
    )


@pytest.fixture
def pending_partner(db) -> User:
    institution = factories.PartnerInstitutionFactory(
        name="Universidad Pendiente",
        type=Institution.Type.ACADEMIA,
        vetting_status=Institution.Vetting.PENDING,
    )
    return factories.UserFactory(
        email="pending@example.org", role=Role.PARTNER, institution=institution
    )


def _with_totp(user: User) -> User:
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def board_member(db) -> User:
    return _with_totp(
        factories.UserFactory(email="board@example.org", role=Role.BOARD_MEMBER, is_staff=True)
    )


@pytest.fixture
def secretariat(db) -> User:
    return _with_totp(
        factories.UserFactory(email="secretariat@example.org", role=Role.SECRETARIAT, is_staff=True)
    )


@pytest.fixture
def visitor(db):
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


@pytest.fixture
def role_users(
    visitor,
    focal_point,
    delegate,
    mission_liaison,
    partner,
    pending_partner,
    board_member,
    secretariat,
) -> dict:
    """Every role of DESIGN.md §2, by name, for the permission matrices."""
    return {
        "visitor": visitor,
        "focal_point": focal_point,
        "delegate": delegate,
        "mission_liaison": mission_liaison,
        "partner": partner,
        "pending_partner": pending_partner,
        "board_member": board_member,
        "secretariat": secretariat,
    }


def has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
