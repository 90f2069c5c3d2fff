"""The accounts pages as a person uses them: access, bad input, and exact query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Institution, Invitation, Notification, User
from tests import factories

pytestmark = pytest.mark.django_db


def test_home_lists_the_participating_states(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["overview"].total == 34
    assert "0 of 34 participating Member States (0%)" in response.content.decode()


def test_home_in_spanish(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.context["LANGUAGE_CODE"] == "es"
    assert "Red Interamericana de Cooperación" in response.content.decode()


class TestDesignationDashboard:
    url = reverse("accounts:designations")

    def test_shows_percentage_designated(self, client, secretariat):
        for iso3 in ("PER", "ARG", "URY", "CHL", "CRI"):
            factories.AuthorityFactory(
                country=factories.country(iso3),
                designation_status=Institution.Designation.DESIGNATED,
            )
        factories.AuthorityFactory(
            country=factories.country("BRA"), designation_status=Institution.Designation.INVITED
        )
        client.force_login(secretariat)
        response = client.get(self.url)
        assert response.status_code == 200
        overview = response.context["overview"]
        assert (overview.designated, overview.total, overview.percentage) == (5, 34, 15)
        statuses = {row.country.iso3: row.status for row in overview.rows}
        assert statuses["PER"] == "designated"
        assert statuses["BRA"] == "invited"
        assert statuses["JAM"] == "not_designated"
        assert "CUB" not in statuses

    def test_last_activity_is_the_latest_sign_in(self, client, secretariat, focal_point, delegate):
        client.force_login(delegate)
        client.force_login(secretariat)
        response = client.get(self.url)
        row = next(r for r in response.context["overview"].rows if r.country.iso3 == "PER")
        delegate.refresh_from_db()
        assert row.last_activity == delegate.last_login

    @pytest.mark.parametrize("authorities", [1, 34])
    def test_query_count_does_not_grow_with_countries(
        self, client, secretariat, django_assert_num_queries, authorities
    ):
        for country in factories.Country.objects.filter(participates=True)[:authorities]:
            authority = factories.AuthorityFactory(country=country)
            factories.UserFactory(role=User.Role.FOCAL_POINT, institution=authority)
        client.force_login(secretariat)
        client.get(self.url)
        # session, user, MFA check, countries, their authorities, unread count, partners waiting
        with django_assert_num_queries(7):
            response = client.get(self.url)
        assert response.status_code == 200

    @pytest.mark.parametrize(
        "role", ["visitor", "focal_point", "delegate", "partner", "mission_liaison"]
    )
    def test_refused_to_others(self, client, role_users, role):
        user = role_users[role]
        if user.is_authenticated:
            client.force_login(user)
        response = client.get(self.url)
        assert response.status_code == (302 if role == "visitor" else 403)

    def test_board_member_reads_it(self, client, board_member):
        client.force_login(board_member)
        assert client.get(self.url).status_code == 200


class TestInstitutionPage:
    url = reverse("accounts:institution")

    def test_focal_point_invites_a_delegate(
        self, client, focal_point, django_capture_on_commit_callbacks
    ):
        client.force_login(focal_point)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(self.url, {"action": "invite", "email": "rosa@apci.example.org"})
        assert response.status_code == 302
        invitation = Invitation.objects.get()
        assert (invitation.email, invitation.role, invitation.invited_by) == (
            "rosa@apci.example.org",
            User.Role.DELEGATE,
            focal_point,
        )

    @pytest.mark.parametrize("email", ["", "not-an-email", "rosa@", "a" * 300 + "@example.org"])
    def test_bad_email_shows_an_error_and_changes_nothing(self, client, focal_point, email):
        client.force_login(focal_point)
        response = client.post(self.url, {"action": "invite", "email": email})
        assert response.status_code == 400
        assert response.context["invite_form"].errors["email"]
        assert Invitation.objects.count() == 0

    def test_delegate_sees_no_invite_form_and_cannot_post_one(self, client, delegate):
        client.force_login(delegate)
        response = client.get(self.url)
        assert response.status_code == 200
        assert response.context["can_invite"] is False
        assert b'name="action" value="invite"' not in response.content
        client.post(self.url, {"action": "invite", "email": "x@apci.example.org"})
        assert Invitation.objects.count() == 0

    def test_delegate_updates_the_profile(self, client, delegate, peru):
        client.force_login(delegate)
        response = client.post(
            self.url,
            {
                "action": "profile",
                "website": "apci.gob.pe",
                "description": "<script>alert(1)</script>",
            },
        )
        assert response.status_code == 302
        peru.refresh_from_db()
        assert peru.website == "https://apci.gob.pe"
        page = client.get(self.url).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    def test_pending_partner_is_refused(self, client, pending_partner):
        client.force_login(pending_partner)
        response = client.get(self.url)
        assert response.status_code == 403
        assert "awaiting vetting" in response.content.decode()

    def test_people_without_an_institution_get_404(self, client, board_member):
        client.force_login(board_member)
        assert client.get(self.url).status_code == 404

    @pytest.mark.parametrize("delegates", [1, 5])
    def test_query_count(self, client, focal_point, peru, django_assert_num_queries, delegates):
        factories.UserFactory.create_batch(delegates, role=User.Role.DELEGATE, institution=peru)
        factories.InvitationFactory.create_batch(
            delegates, institution=peru, invited_by=focal_point
        )
        client.force_login(focal_point)
        client.get(self.url)
        # session, user, institution, unread count, country, people, invitations
        with django_assert_num_queries(7):
            response = client.get(self.url)
        assert len(response.context["people"]) == delegates + 1


class TestRevokeDelegate:
    def test_confirmation_then_revocation(self, client, focal_point, delegate):
        client.force_login(focal_point)
        url = reverse("accounts:revoke_delegate", args=[delegate.pk])
        response = client.get(url)
        assert response.status_code == 200
        assert "Yes, revoke access" in response.content.decode()
        delegate.refresh_from_db()
        assert delegate.is_active is True
        client.post(url)
        delegate.refresh_from_db()
        assert delegate.is_active is False

    def test_revoked_delegate_is_signed_out(self, client, focal_point, delegate):
        delegate_client = client.__class__()
        delegate_client.force_login(delegate)
        assert delegate_client.get(reverse("accounts:dashboard")).status_code == 200
        client.force_login(focal_point)
        client.post(reverse("accounts:revoke_delegate", args=[delegate.pk]))
        assert delegate_client.get(reverse("accounts:dashboard")).status_code == 302

    @pytest.mark.parametrize("role", ["delegate", "other_focal_point", "partner", "secretariat"])
    def test_others_get_404(self, client, role_users, other_focal_point, delegate, role):
        actor = {**role_users, "other_focal_point": other_focal_point}[role]
        target = factories.UserFactory(role=User.Role.DELEGATE, institution=delegate.institution)
        client.force_login(actor)
        url = reverse("accounts:revoke_delegate", args=[target.pk])
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
        target.refresh_from_db()
        assert target.is_active is True


class TestAcceptInvitation:
    def test_unknown_token_is_404(self, client):
        assert client.get("/invitation/nope/").status_code == 404

    def test_mismatched_passwords_are_refused(self, client, peru):
        invitation = factories.InvitationFactory(institution=peru)
        response = client.post(
            invitation.get_absolute_url(),
            {
                "full_name": "Rosa",
                "password1": "a-long-password-1",
                "password2": "a-long-password-2",
            },
        )
        assert response.status_code == 400
        assert response.context["form"].errors == {"password2": ["The two passwords differ."]}
        assert not User.objects.filter(email=invitation.email).exists()

    def test_common_password_is_refused(self, client, peru):
        invitation = factories.InvitationFactory(institution=peru)
        response = client.post(
            invitation.get_absolute_url(),
            {"full_name": "Rosa", "password1": "password1234", "password2": "password1234"},
        )
        assert response.status_code == 400
        assert response.context["form"].errors["password1"]
        assert not User.objects.filter(email=invitation.email).exists()

    def test_accepting_redirects_to_sign_in(self, client, peru):
        invitation = factories.InvitationFactory(institution=peru)
        password = "a-long-test-password-2026"
        response = client.post(
            invitation.get_absolute_url(),
            {"full_name": "Rosa Mamani", "password1": password, "password2": password},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("account_login")
        response = client.post(
            reverse("account_login"), {"login": invitation.email, "password": password}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:dashboard")


class TestInbox:
    url = reverse("accounts:inbox")

    @pytest.mark.parametrize("count", [1, 30])
    def test_query_count(self, client, partner, django_assert_num_queries, count):
        factories.NotificationFactory.create_batch(count, recipient=partner)
        client.force_login(partner)
        client.get(self.url)
        # session, user, page count, unread count, page rows
        with django_assert_num_queries(5):
            response = client.get(self.url)
        assert len(response.context["page"].object_list) == min(count, 20)

    def test_empty_inbox_says_so(self, client, partner):
        client.force_login(partner)
        assert "Nothing here yet" in client.get(self.url).content.decode()

    def test_opening_marks_read_and_follows_the_link(self, client, partner):
        notification = factories.NotificationFactory(recipient=partner, url="/dashboard/")
        client.force_login(partner)
        response = client.post(reverse("accounts:open_notification", args=[notification.pk]))
        assert response["Location"] == "/dashboard/"
        notification.refresh_from_db()
        assert notification.read_at is not None

    def test_someone_elses_notification_is_404(self, client, partner, focal_point):
        notification = factories.NotificationFactory(recipient=partner)
        client.force_login(focal_point)
        response = client.post(reverse("accounts:open_notification", args=[notification.pk]))
        assert response.status_code == 404
        notification.refresh_from_db()
        assert notification.read_at is None

    def test_mark_all_read(self, client, partner):
        factories.NotificationFactory.create_batch(3, recipient=partner)
        client.force_login(partner)
        client.post(reverse("accounts:read_all"))
        assert Notification.objects.filter(read_at__isnull=True).count() == 0

    def test_header_shows_unread_count(self, client, partner):
        factories.NotificationFactory.create_batch(2, recipient=partner)
        client.force_login(partner)
        assert "2 unread" in client.get(reverse("accounts:dashboard")).content.decode()


class TestPreferences:
    url = reverse("accounts:preferences")

    def test_saving_language_and_opt_outs(self, client, partner):
        client.force_login(partner)
        kinds = [k for k in User.NotificationKind.values if k != "partner_vetted"]
        response = client.post(self.url, {"language": "pt", "email_kinds": kinds})
        assert response.status_code == 302
        partner.refresh_from_db()
        assert (partner.language, partner.email_opt_outs) == ("pt", ["partner_vetted"])
        assert "Preferências" in client.get(self.url).content.decode()

    def test_bad_values_change_nothing(self, client, partner):
        client.force_login(partner)
        response = client.post(self.url, {"language": "xx", "email_kinds": ["nonsense"]})
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"language", "email_kinds"}
        partner.refresh_from_db()
        assert (partner.language, partner.email_opt_outs) == ("en", [])


def test_language_switch_is_remembered_on_the_account(client, partner):
    client.force_login(partner)
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    partner.refresh_from_db()
    assert partner.language == "fr"


@pytest.mark.parametrize("authorities", [1, 20])
def test_home_query_count(client, django_assert_num_queries, authorities):
    for country in factories.Country.objects.filter(participates=True)[:authorities]:
        factories.AuthorityFactory(country=country)
    # countries, their authorities with last activity
    with django_assert_num_queries(2):
        response = client.get("/")
    assert response.context["overview"].total == 34


@pytest.mark.parametrize("count", [1, 12])
def test_dashboard_query_count(client, partner, django_assert_num_queries, count):
    factories.NotificationFactory.create_batch(count, recipient=partner)
    client.force_login(partner)
    client.get(reverse("accounts:dashboard"))
    # session, user, institution, its country, latest notifications, unread count
    with django_assert_num_queries(6):
        response = client.get(reverse("accounts:dashboard"))
    assert len(response.context["latest_notifications"]) == min(count, 5)
