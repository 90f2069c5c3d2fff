"""`manage.py seed_demo`: the demo institutions and sign-ins, idempotent."""

from __future__ import annotations

import io

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management import CommandError, call_command

from accounts.models import Institution, User

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
EMAILS = {
    "focal-per@example.org",
    "focal-arg@example.org",
    "focal-ury@example.org",
    "focal-chl@example.org",
    "focal-cri@example.org",
    "partner@example.org",
    "board@example.org",
    "secretariat@example.org",
}


def _seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_creates_the_demo(monkeypatch):
    monkeypatch.setenv("DEMO_TOTP_SECRET", SECRET)
    _seed("--password", "demo-password-2026")
    assert set(User.objects.values_list("email", flat=True)) == EMAILS
    authorities = Institution.objects.filter(type=Institution.Type.COOPERATION_AUTHORITY)
    assert authorities.count() == 34
    designated = authorities.filter(designation_status=Institution.Designation.DESIGNATED)
    assert sorted(designated.values_list("country__iso3", flat=True)) == [
        "ARG",
        "CHL",
        "CRI",
        "PER",
        "URY",
    ]
    peru = User.objects.get(email="focal-per@example.org")
    assert (peru.role, peru.institution.country.iso3) == (User.Role.FOCAL_POINT, "PER")
    assert peru.check_password("demo-password-2026")
    partner = User.objects.get(email="partner@example.org")
    assert (partner.institution.name, partner.institution.vetting_status) == (
        "Formato Educativo",
        "vetted",
    )
    for email, role in (
        ("board@example.org", "board_member"),
        ("secretariat@example.org", "secretariat"),
    ):
        user = User.objects.get(email=email)
        assert (user.role, user.is_staff) == (role, True)
        assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_the_demo_totp_secret_signs_in(client, monkeypatch):
    import time

    from django.urls import reverse

    monkeypatch.setenv("DEMO_TOTP_SECRET", SECRET)
    _seed("--password", "demo-password-2026")
    response = client.post(
        reverse("account_login"),
        {"login": "secretariat@example.org", "password": "demo-password-2026"},
    )
    assert response["Location"] == reverse("mfa_authenticate")
    code = format_hotp_value(hotp_value(SECRET, int(time.time()) // 30))
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert client.get(reverse("accounts:designations")).status_code == 200


def test_seed_is_idempotent_and_keeps_passwords():
    first = _seed()
    assert "shown once" in first
    users = {u.email: u.password for u in User.objects.all()}
    second = _seed()
    assert second == "Demo data already present; nothing changed.\n"
    assert {u.email: u.password for u in User.objects.all()} == users
    assert Institution.objects.count() == 35
    assert Authenticator.objects.count() == 2


def test_generated_password_is_printed_once_and_works():
    output = _seed()
    password = output.split("(shown once): ")[1].split("\n")[0]
    assert User.objects.get(email="focal-arg@example.org").check_password(password)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--password", "short"], {}, "at least 12 characters"),
        ([], {"DEMO_TOTP_SECRET": "not base32!"}, "not valid base32"),
    ],
)
def test_bad_arguments_change_nothing(monkeypatch, args, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(CommandError, match=message):
        _seed(*args)
    assert User.objects.count() == 0
