"""Designation, invitations, delegates, partners and notifications through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import services
from accounts.models import Institution, Invitation, Notification, User
from tests import factories

pytestmark = pytest.mark.django_db
Role = User.Role


def _accept(invitation, name="Ana Quispe", password="a-long-test-password-2026"):
    return services.invitation_accept(invitation=invitation, full_name=name, password=password)


class TestDesignation:
    def test_designation_invites_the_mailbox(self, secretariat, django_capture_on_commit_callbacks):
        chile = factories.AuthorityFactory(country=factories.country("CHL"))
        with django_capture_on_commit_callbacks(execute=True):
            invitation = services.focal_point_designate(
                institution=chile, mailbox=" Cooperacion@AGCI.example.org ", by=secretariat
            )
        chile.refresh_from_db()
        assert (chile.mailbox, chile.designation_status) == (
            "cooperacion@agci.example.org",
            Institution.Designation.INVITED,
        )
        assert invitation.role == Role.FOCAL_POINT
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["cooperacion@agci.example.org"]
        assert invitation.get_absolute_url() in mail.outbox[0].body
        assert "Invitación" in mail.outbox[0].subject or "invit" in mail.outbox[0].subject.lower()

    def test_accepting_designates_and_verifies(self, secretariat):
        chile = factories.AuthorityFactory(country=factories.country("CHL"))
        invitation = services.focal_point_designate(
            institution=chile, mailbox="cooperacion@agci.example.org", by=secretariat
        )
        user = _accept(invitation, name="")
        chile.refresh_from_db()
        assert (user.role, user.institution, user.is_staff) == (Role.FOCAL_POINT, chile, False)
        assert user.check_password("a-long-test-password-2026")
        assert chile.designation_status == Institution.Designation.DESIGNATED
        assert EmailAddress.objects.get(user=user).verified is True
        invitation.refresh_from_db()
        assert (invitation.status, invitation.user) == (Invitation.Status.ACCEPTED, user)

    def test_redesignation_after_rotation_keeps_the_institution(
        self, secretariat, focal_point, peru
    ):
        invitation = services.focal_point_designate(
            institution=peru, mailbox="cooperacion-nueva@apci.example.org", by=secretariat
        )
        peru.refresh_from_db()
        # Until the new mailbox accepts, the old account keeps working.
        assert peru.designation_status == Institution.Designation.DESIGNATED
        focal_point.refresh_from_db()
        assert focal_point.is_active is True

        new_account = _accept(invitation)
        focal_point.refresh_from_db()
        peru.refresh_from_db()
        assert focal_point.is_active is False
        assert focal_point.institution == peru
        assert new_account.institution == peru
        assert peru.mailbox == "cooperacion-nueva@apci.example.org"
        assert list(peru.members.filter(is_active=True, role=Role.FOCAL_POINT)) == [new_account]

    def test_only_an_authority_gets_a_focal_point(self, secretariat, partner):
        with pytest.raises(ValidationError) as error:
            services.focal_point_designate(
                institution=partner.institution, mailbox="x@example.org", by=secretariat
            )
        assert "institution" in error.value.message_dict
        assert Invitation.objects.count() == 0

    @pytest.mark.parametrize(
        "mailbox", ["", "not-an-email", "a@b", "ana@@example.org", "<script>@x.org"]
    )
    def test_malformed_mailbox_changes_nothing(self, secretariat, mailbox):
        chile = factories.AuthorityFactory(country=factories.country("CHL"))
        with pytest.raises(ValidationError) as error:
            services.focal_point_designate(institution=chile, mailbox=mailbox, by=secretariat)
        assert error.value.message_dict == {
            "email": ["Enter a valid e-mail address, such as name@example.org."]
        }
        chile.refresh_from_db()
        assert (chile.mailbox, chile.designation_status) == ("", "not_designated")
        assert Invitation.objects.count() == 0


class TestInvitations:
    def test_delegate_joins_and_focal_point_is_notified(
        self, focal_point, peru, django_capture_on_commit_callbacks
    ):
        invitation = services.delegate_invite(
            institution=peru, email="rosa@apci.example.org", by=focal_point
        )
        with django_capture_on_commit_callbacks(execute=True):
            delegate = _accept(invitation, name="Rosa Mamani")
        assert (delegate.role, delegate.institution, delegate.full_name) == (
            Role.DELEGATE,
            peru,
            "Rosa Mamani",
        )
        notification = Notification.objects.get(recipient=focal_point)
        assert notification.kind == User.NotificationKind.DELEGATE_JOINED
        assert notification.params == {"name": "Rosa Mamani", "email": "rosa@apci.example.org"}
        assert [m.to for m in mail.outbox] == [["focal-per@example.org"]]

    def test_delegate_must_give_a_name(self, focal_point, peru):
        invitation = services.delegate_invite(
            institution=peru, email="rosa@apci.example.org", by=focal_point
        )
        with pytest.raises(ValidationError) as error:
            _accept(invitation, name="  ")
        assert error.value.message_dict == {"full_name": ["Enter your full name."]}
        assert not User.objects.filter(email="rosa@apci.example.org").exists()

    def test_weak_password_is_refused(self, focal_point, peru):
        invitation = services.delegate_invite(
            institution=peru, email="rosa@apci.example.org", by=focal_point
        )
        with pytest.raises(ValidationError):
            _accept(invitation, password="short")
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.PENDING
        assert not User.objects.filter(email="rosa@apci.example.org").exists()

    def test_expired_invitation_is_refused(self, focal_point, peru):
        invitation = services.delegate_invite(
            institution=peru, email="rosa@apci.example.org", by=focal_point
        )
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        with pytest.raises(ValidationError) as error:
            _accept(invitation)
        assert error.value.messages == [
            "This invitation has expired. Ask the person who invited you to send a new one."
        ]
        assert not User.objects.filter(email="rosa@apci.example.org").exists()

    def test_used_and_revoked_invitations_are_refused(self, focal_point, peru):
        used = services.delegate_invite(
            institution=peru, email="rosa@apci.example.org", by=focal_point
        )
        _accept(used)
        with pytest.raises(ValidationError, match="already been used"):
            _accept(used)
        withdrawn = services.delegate_invite(
            institution=peru, email="juan@apci.example.org", by=focal_point
        )
        services.invitation_revoke(invitation=withdrawn, by=focal_point)
        with pytest.raises(ValidationError, match="withdrawn"):
            _accept(withdrawn)

    def test_a_new_invitation_replaces_the_pending_one(self, focal_point, peru):
        first = services.delegate_invite(
            institution=peru, email="rosa@apci.example.org", by=focal_point
        )
        second = services.delegate_invite(
            institution=peru, email="ROSA@apci.example.org", by=focal_point
        )
        first.refresh_from_db()
        assert (first.status, second.status) == (
            Invitation.Status.REVOKED,
            Invitation.Status.PENDING,
        )

    def test_cannot_invite_an_existing_account(self, focal_point, partner, peru):
        with pytest.raises(ValidationError) as error:
            services.delegate_invite(institution=peru, email="partner@example.org", by=focal_point)
        assert error.value.message_dict == {
            "email": ["This address already has an active account on CooperaNet."]
        }

    def test_expiry_job_marks_old_invitations(self, focal_point, peru):
        old = services.delegate_invite(
            institution=peru, email="rosa@apci.example.org", by=focal_point
        )
        fresh = services.delegate_invite(
            institution=peru, email="juan@apci.example.org", by=focal_point
        )
        Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(hours=1))
        assert services.invitations_expire() == 1
        old.refresh_from_db()
        fresh.refresh_from_db()
        assert (old.status, fresh.status) == (Invitation.Status.EXPIRED, Invitation.Status.PENDING)

    def test_staff_invitations(self, secretariat, mission_liaison):
        board = services.staff_invite(
            email="jd@example.org", role=Role.BOARD_MEMBER, by=secretariat
        )
        user = _accept(board, name="Junta Directiva")
        assert (user.role, user.is_staff, user.institution) == (Role.BOARD_MEMBER, True, None)
        with pytest.raises(ValidationError) as error:
            services.staff_invite(
                email="liaison@example.org", role=Role.MISSION_LIAISON, by=secretariat
            )
        assert error.value.message_dict == {
            "institution": ["A mission liaison belongs to a Permanent Mission."]
        }
        with pytest.raises(ValidationError):
            services.staff_invite(email="x@example.org", role=Role.FOCAL_POINT, by=secretariat)


class TestDelegates:
    def test_revoking_ends_access_and_keeps_attribution(self, focal_point, delegate):
        services.delegate_revoke(delegate=delegate, by=focal_point)
        delegate.refresh_from_db()
        assert delegate.is_active is False
        assert delegate.revoked_at is not None
        assert delegate.institution == focal_point.institution

    def test_revoking_twice_is_a_clear_error(self, focal_point, delegate):
        services.delegate_revoke(delegate=delegate, by=focal_point)
        delegate.refresh_from_db()
        with pytest.raises(ValidationError, match="already revoked"):
            services.delegate_revoke(delegate=delegate, by=focal_point)

    def test_delegate_cannot_manage_delegates(self, delegate, peru):
        colleague = factories.UserFactory(role=Role.DELEGATE, institution=peru)
        with pytest.raises(PermissionDenied):
            services.delegate_revoke(delegate=colleague, by=delegate)
        with pytest.raises(PermissionDenied):
            services.delegate_invite(institution=peru, email="x@apci.example.org", by=delegate)
        colleague.refresh_from_db()
        assert colleague.is_active is True
        assert Invitation.objects.count() == 0

    def test_focal_point_cannot_revoke_another_countrys_delegate(self, other_focal_point, delegate):
        with pytest.raises(PermissionDenied):
            services.delegate_revoke(delegate=delegate, by=other_focal_point)
        delegate.refresh_from_db()
        assert delegate.is_active is True


class TestPartners:
    def test_vetting_notifies_the_partner(
        self, secretariat, pending_partner, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            services.partner_vet(institution=pending_partner.institution, by=secretariat)
        pending_partner.refresh_from_db()
        assert pending_partner.institution.vetting_status == Institution.Vetting.VETTED
        assert pending_partner.has_perm(
            "accounts.edit_institution_profile", pending_partner.institution
        )
        notification = Notification.objects.get(recipient=pending_partner)
        assert notification.kind == User.NotificationKind.PARTNER_VETTED
        assert len(mail.outbox) == 1
        assert "Universidad Pendiente" in mail.outbox[0].subject

    def test_rejection_notifies_the_partner(self, secretariat, pending_partner):
        services.partner_reject(institution=pending_partner.institution, by=secretariat)
        pending_partner.institution.refresh_from_db()
        assert pending_partner.institution.vetting_status == Institution.Vetting.REJECTED
        assert (
            Notification.objects.get(recipient=pending_partner).kind
            == User.NotificationKind.PARTNER_REJECTED
        )

    def test_an_authority_is_not_vetted(self, secretariat, peru):
        with pytest.raises(ValidationError, match="Only partner organisations"):
            services.partner_vet(institution=peru, by=secretariat)


class TestNotifications:
    def test_opt_out_keeps_the_inbox_but_skips_the_mail(
        self, partner, django_capture_on_commit_callbacks
    ):
        services.user_update_preferences(
            user=partner, language="es", email_opt_outs=[User.NotificationKind.PARTNER_VETTED]
        )
        with django_capture_on_commit_callbacks(execute=True):
            notification = services.notification_create(
                recipient=partner,
                kind=User.NotificationKind.PARTNER_VETTED,
                params={"organisation": "Fundación Demo"},
            )
        assert notification.email_status == Notification.EmailStatus.SKIPPED
        assert mail.outbox == []

    def test_mail_is_in_the_recipients_language(self, partner, django_capture_on_commit_callbacks):
        partner.language = "fr"
        partner.save()
        with django_capture_on_commit_callbacks(execute=True):
            notification = services.notification_create(
                recipient=partner,
                kind=User.NotificationKind.PARTNER_VETTED,
                params={"organisation": "Fundación Demo"},
                url="/dashboard/",
            )
        notification.refresh_from_db()
        assert notification.email_status == Notification.EmailStatus.SENT
        assert (
            mail.outbox[0].subject
            == "[CooperaNet] Fundación Demo est désormais un partenaire vérifié"
        )
        assert "http://127.0.0.1:8000/dashboard/" in mail.outbox[0].body

    def test_only_the_recipient_marks_as_read(self, partner, focal_point):
        notification = factories.NotificationFactory(recipient=partner)
        with pytest.raises(PermissionDenied):
            services.notification_mark_read(notification=notification, by=focal_point)
        services.notification_mark_read(notification=notification, by=partner)
        notification.refresh_from_db()
        assert notification.read_at is not None

    def test_unknown_language_is_refused(self, partner):
        with pytest.raises(ValidationError):
            services.user_update_preferences(user=partner, language="de", email_opt_outs=[])
        partner.refresh_from_db()
        assert partner.language == "en"
