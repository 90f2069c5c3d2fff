"""E-mail delivery for notifications and invitations.

Each task takes a primitive id, does nothing when the object is gone or already handled
(so a retry or a duplicate delivery sends no second mail) and renders in the recipient's
language.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from accounts import emails, services
from accounts.models import Invitation, Notification

log = logging.getLogger(__name__)


@shared_task(name="accounts.send_notification_email", autoretry_for=(OSError,), max_retries=5)
def task_send_notification_email(*, notification_id: int) -> None:
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id, email_status=Notification.EmailStatus.PENDING)
            .first()
        )
        if notification is None:
            log.info("Notification %s is gone or already handled.", notification_id)
            return
        recipient = notification.recipient
        if not recipient.is_active or notification.kind in recipient.email_opt_outs:
            notification.email_status = Notification.EmailStatus.SKIPPED
            notification.save(update_fields=["email_status"])
            return
        emails.send_notification(notification)
        notification.email_status = Notification.EmailStatus.SENT
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["email_status", "emailed_at"])


@shared_task(name="accounts.send_invitation", autoretry_for=(OSError,), max_retries=5)
def task_send_invitation(*, invitation_id: int) -> None:
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("institution", "institution__country", "invited_by")
            .filter(pk=invitation_id, status=Invitation.Status.PENDING, sent_at__isnull=True)
            .first()
        )
        if invitation is None:
            log.info("Invitation %s is gone, already sent or no longer pending.", invitation_id)
            return
        emails.send_invitation(invitation)
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["sent_at"])


@shared_task(name="accounts.expire_invitations")
def task_expire_invitations() -> int:
    return services.invitations_expire()
