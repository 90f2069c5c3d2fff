"""Admin actions that run a service on each selected row (accounts and later apps share it)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _


def run_on_each(
    model_admin, request, queryset, service: Callable, argument: str, done: Callable, **kwargs
) -> int:
    """Call ``service(<argument>=row, by=request.user, **kwargs)`` for each row.

    A row the service refuses is reported with the service's own message and the others go
    on; the count of rows changed is reported once, with ``done(count)``.
    """
    count = 0
    for row in queryset:
        try:
            service(**{argument: row}, by=request.user, **kwargs)
        except ValidationError as error:
            model_admin.message_user(request, f"{row}: {' '.join(error.messages)}", messages.ERROR)
        except PermissionDenied as error:
            reason = str(error) or _("You may not change it.")
            model_admin.message_user(request, f"{row}: {reason}", messages.ERROR)
        else:
            count += 1
    if count:
        model_admin.message_user(request, done(count), messages.SUCCESS)
    return count
