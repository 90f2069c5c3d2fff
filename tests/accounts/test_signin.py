"""Sign-in with allauth: partner sign-up, verification, enumeration, rate limits, MFA, admin."""

from __future__ import annotations

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from axes.models import AccessAttempt
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from accounts.models import Institution, User
from tests import factories

pytestmark = pytest.mark.django_db

SIGNUP = reverse("account_signup")
LOGIN = reverse("account_login")
PASSWORD = factories.PASSWORD


def _signup_data(**overrides):
    data = {
        "email": "maria@fundacion.example.org",
        "password1": "a-long-sign-up-password",
        "password2": "a-long-sign-up-password",
        "full_name": "María López",
        "organisation_name": "Fundación Andina",
        "organisation_type": "foundation",
        "country": factories.country("COL").pk,
        "website": "fundacion-andina.example.org",
        "accept_principles": "on",
    }
    data.update(overrides)
    return data


class TestPartnerSignup:
    def test_signup_creates_a_pending_partner_and_asks_for_verification(self, client):
        response = client.post(SIGNUP, _signup_data())
        assert response.status_code == 302
        assert response["Location"] == reverse("account_email_verification_sent")
        user = User.objects.get(email="maria@fundacion.example.org")
        assert (user.role, user.full_name) == (User.Role.PARTNER, "María López")
        assert (user.institution.name, user.institution.type, user.institution.vetting_status) == (
            "Fundación Andina",
            Institution.Type.FOUNDATION,
            Institution.Vetting.PENDING,
        )
        assert user.institution.website == "https://fundacion-andina.example.org"
        assert EmailAddress.objects.get(user=user).verified is False
        assert len(mail.outbox) == 1
        assert "/accounts/confirm-email/" in mail.outbox[0].body

    def test_unverified_partner_cannot_sign_in(self, client):
        client.post(SIGNUP, _signup_data())
        client.logout()
        response = client.post(
            LOGIN, {"login": "maria@fundacion.example.org", "password": "a-long-sign-up-password"}
        )
        assert response["Location"] == reverse("account_email_verification_sent")
        assert client.get(reverse("accounts:dashboard")).status_code == 302

    def test_verified_partner_waits_for_vetting(self, client):
        client.post(SIGNUP, _signup_data())
        key = re.search(r"/accounts/confirm-email/([^/\s]+)/", mail.outbox[0].body).group(1)
        client.post(reverse("account_confirm_email", args=[key]))
        response = client.post(
            LOGIN, {"login": "maria@fundacion.example.org", "password": "a-long-sign-up-password"}
        )
        assert response["Location"] == reverse("accounts:dashboard")
        dashboard = client.get(reverse("accounts:dashboard")).content.decode()
        assert "Your organisation is awaiting vetting" in dashboard
        assert client.get(reverse("accounts:institution")).status_code == 403

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("email", "not-an-email"),
            ("email", "maria@"),
            ("organisation_type", "cooperation_authority"),
            ("organisation_name", ""),
            ("accept_principles", ""),
            ("website", "javascript:alert(1)"),
            ("password2", "something-else-entirely"),
        ],
    )
    def test_bad_input_creates_nothing(self, client, field, value):
        response = client.post(SIGNUP, _signup_data(**{field: value}))
        assert response.status_code == 200
        assert response.context["form"].errors
        assert User.objects.count() == 0
        assert Institution.objects.filter(type=Institution.Type.FOUNDATION).count() == 0
        assert mail.outbox == []

    def test_signing_up_with_a_taken_address_does_not_reveal_it(self, client, partner):
        response = client.post(SIGNUP, _signup_data(email="partner@example.org"))
        # Prevent enumeration: the same "check your e-mail" answer, and a mail to the owner.
        assert response.status_code == 302
        assert response["Location"] == reverse("account_email_verification_sent")
        assert User.objects.filter(email="partner@example.org").count() == 1
        assert mail.outbox[0].to == ["partner@example.org"]


class TestSignIn:
    def test_wrong_password_is_a_clear_error(self, client, focal_point):
        response = client.post(LOGIN, {"login": focal_point.email, "password": "wrong-password"})
        assert response.status_code == 200
        assert response.context["form"].errors["__all__"] == [
            "The email address and/or password you specified are not correct."
        ]

    def test_password_reset_does_not_reveal_accounts(self, client, focal_point):
        known = client.post(reverse("account_reset_password"), {"email": focal_point.email})
        unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
        assert known.status_code == unknown.status_code == 302
        assert known["Location"] == unknown["Location"]

    def test_failed_sign_ins_are_rate_limited(self, client, focal_point):
        for _ in range(5):
            client.post(LOGIN, {"login": focal_point.email, "password": "wrong-password"})
        response = client.post(LOGIN, {"login": focal_point.email, "password": PASSWORD})
        assert response.status_code in (200, 429)
        assert "_auth_user_id" not in client.session

    def test_revoked_account_cannot_sign_in(self, client, delegate):
        delegate.is_active = False
        delegate.save()
        client.post(LOGIN, {"login": delegate.email, "password": PASSWORD})
        assert "_auth_user_id" not in client.session


class TestMFA:
    def test_staff_without_a_second_factor_is_sent_to_set_one_up(self, client):
        staff = factories.UserFactory(role=User.Role.SECRETARIAT, is_staff=True)
        client.force_login(staff)
        for url in (reverse("accounts:dashboard"), reverse("accounts:designations"), "/admin/"):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"] == reverse("mfa_activate_totp")
        # The set-up page itself stays reachable (allauth first asks for the password again).
        activate = client.get(reverse("mfa_activate_totp"))
        assert activate["Location"].startswith(reverse("account_reauthenticate"))
        assert client.get(activate["Location"]).status_code == 200

    def test_board_member_too(self, client):
        board = factories.UserFactory(role=User.Role.BOARD_MEMBER, is_staff=True)
        client.force_login(board)
        assert client.get(reverse("accounts:dashboard"))["Location"] == reverse("mfa_activate_totp")

    def test_other_roles_need_no_second_factor(self, client, focal_point):
        client.force_login(focal_point)
        assert client.get(reverse("accounts:dashboard")).status_code == 200

    def test_sign_in_asks_for_the_code(self, client):
        staff = factories.UserFactory(role=User.Role.SECRETARIAT, is_staff=True)
        secret = generate_totp_secret()
        TOTP.activate(staff, secret)
        response = client.post(LOGIN, {"login": staff.email, "password": PASSWORD})
        assert response["Location"] == reverse("mfa_authenticate")
        wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
        assert wrong.status_code == 200
        assert wrong.context["form"].errors["code"] == ["Incorrect code."]
        assert "_auth_user_id" not in client.session
        code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
        response = client.post(reverse("mfa_authenticate"), {"code": code})
        assert response.status_code == 302
        assert int(client.session["_auth_user_id"]) == staff.pk


class TestAdmin:
    def test_admin_sign_in_goes_through_allauth(self, client):
        response = client.get("/admin/login/?next=/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)

    def test_non_staff_are_refused(self, client, focal_point):
        client.force_login(focal_point)
        assert client.get("/admin/login/").status_code == 403
        assert client.get("/admin/").status_code == 302

    def test_board_member_reads_but_does_not_change(self, client, board_member, peru):
        client.force_login(board_member)
        assert client.get("/admin/accounts/institution/").status_code == 200
        change = client.get(f"/admin/accounts/institution/{peru.pk}/change/")
        assert change.status_code == 200
        assert b'name="_save"' not in change.content
        client.post(f"/admin/accounts/institution/{peru.pk}/change/", {"name": "Hacked"})
        peru.refresh_from_db()
        assert peru.name != "Hacked"
        assert client.get(f"/admin/accounts/institution/{peru.pk}/designate/").status_code == 403

    def test_secretariat_designates_from_the_admin(
        self, client, secretariat, django_capture_on_commit_callbacks
    ):
        chile = factories.AuthorityFactory(country=factories.country("CHL"))
        client.force_login(secretariat)
        url = f"/admin/accounts/institution/{chile.pk}/designate/"
        bad = client.post(url, {"mailbox": "not-an-email", "language": "es"})
        assert bad.status_code == 200
        assert bad.context["form"].errors["mailbox"]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"mailbox": "agci@example.org", "language": "es"})
        assert response.status_code == 302
        chile.refresh_from_db()
        assert chile.designation_status == Institution.Designation.INVITED
        assert mail.outbox[0].to == ["agci@example.org"]

    def test_secretariat_vets_partners_with_an_admin_action(
        self, client, secretariat, pending_partner
    ):
        client.force_login(secretariat)
        client.post(
            "/admin/accounts/institution/",
            {"action": "vet_partners", "_selected_action": [pending_partner.institution.pk]},
        )
        pending_partner.institution.refresh_from_db()
        assert pending_partner.institution.vetting_status == Institution.Vetting.VETTED

    @override_settings(ACCOUNT_RATE_LIMITS=False)
    def test_brute_force_is_locked_out_by_axes(self, client, secretariat):
        for _ in range(5):
            client.post(LOGIN, {"login": secretariat.email, "password": "wrong-password"})
        assert AccessAttempt.objects.get(username=secretariat.email).failures_since_start == 5
        response = client.post(LOGIN, {"login": secretariat.email, "password": PASSWORD})
        assert response.status_code == 429
        assert "Too many failed sign-in attempts" in response.content.decode()
        assert "_auth_user_id" not in client.session
