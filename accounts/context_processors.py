from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from accounts import selectors


def navigation(request) -> dict:
    """The unread count of the header's inbox link, queried only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(lambda: selectors.unread_notification_count(user))
    }
