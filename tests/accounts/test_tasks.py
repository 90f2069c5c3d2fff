"""E-mail delivery tasks: idempotent, in the recipient's language, and run by a real worker."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from accounts.models import Notification, User
from accounts.tasks import task_send_invitation, task_send_notification_email
from cooperanet.celery import app
from tests import factories


@pytest.mark.django_db
class TestIdempotence:
    def test_a_notification_is_mailed_once(self, partner):
        notification = factories.NotificationFactory(recipient=partner)
        task_send_notification_email(notification_id=notification.pk)
        task_send_notification_email(notification_id=notification.pk)
        assert len(mail.outbox) == 1
        notification.refresh_from_db()
        assert notification.email_status == Notification.EmailStatus.SENT

    def test_a_missing_notification_is_skipped(self):
        task_send_notification_email(notification_id=987654321)
        assert mail.outbox == []

    def test_an_opt_out_after_queuing_is_respected(self, partner):
        notification = factories.NotificationFactory(recipient=partner)
        partner.email_opt_outs = [notification.kind]
        partner.save()
        task_send_notification_email(notification_id=notification.pk)
        notification.refresh_from_db()
        assert notification.email_status == Notification.EmailStatus.SKIPPED
        assert mail.outbox == []

    def test_a_revoked_invitation_is_not_sent(self, peru):
        invitation = factories.InvitationFactory(institution=peru, status="revoked")
        task_send_invitation(invitation_id=invitation.pk)
        assert mail.outbox == []

    def test_an_invitation_is_sent_once_in_its_language(self, peru):
        invitation = factories.InvitationFactory(institution=peru, language="es")
        task_send_invitation(invitation_id=invitation.pk)
        task_send_invitation(invitation_id=invitation.pk)
        assert len(mail.outbox) == 1
        assert mail.outbox[0].subject == "[CooperaNet] Está invitado a CooperaNet"
        assert invitation.get_absolute_url() in mail.outbox[0].body


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_through_redis(settings):
    """The task travels through the Valkey broker to a worker thread and mails the recipient."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    try:
        recipient = factories.UserFactory(role=User.Role.PARTNER, language="pt")
        notification = factories.NotificationFactory(
            recipient=recipient, params={"organisation": "Fundação Demo"}
        )
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            task_send_notification_email.delay(notification_id=notification.pk)
            _wait_sent(notification)
        notification.refresh_from_db()
        assert notification.email_status == Notification.EmailStatus.SENT
        assert mail.outbox[0].to == [recipient.email]
        assert mail.outbox[0].subject == "[CooperaNet] Fundação Demo agora é um parceiro verificado"
    finally:
        app.conf.task_always_eager = True


def _wait_sent(notification, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        notification.refresh_from_db()
        if notification.email_status != Notification.EmailStatus.PENDING:
            return
        time.sleep(0.1)
    raise AssertionError("The worker did not deliver the notification in time.")
