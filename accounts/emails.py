"""Rendering and sending of the platform's own e-mails, in the recipient's language."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import notifications
from accounts.models import Invitation, Notification


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}" if path.startswith("/") else path


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=f"[CooperaNet] {subject}", body=text, to=[to], from_email=None
    )
    message.attach_alternative(html, "text/html")
    message.send()


def send_notification(notification: Notification) -> None:
    recipient = notification.recipient
    with translation.override(recipient.language):
        message = notifications.render(notification.kind, notification.params)
        _send(
            to=recipient.email,
            subject=message.title,
            template="notification",
            context={
                "message": message,
                "url": absolute_url(notification.url) if notification.url else "",
                "preferences_url": absolute_url(reverse("accounts:preferences")),
            },
        )


def send_invitation(invitation: Invitation) -> None:
    with translation.override(invitation.language):
        subject = _("You are invited to CooperaNet")
        _send(
            to=invitation.email,
            subject=subject,
            template="invitation",
            context={
                "invitation": invitation,
                "url": absolute_url(invitation.get_absolute_url()),
            },
        )
