"""Sign-in through allauth, permissions through `rules` only.

allauth's backend inherits Django's model permissions; CooperaNet keeps every permission in
the `rules` predicates (one rule, one place), so this backend grants none of its own and
spares each request the two permission-table queries.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend


class AuthenticationBackend(AllauthBackend):
    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def has_module_perms(self, user_obj, app_label) -> bool:
        return False


def axes_username(request, credentials) -> str | None:
    """The address a sign-in attempt was for, for django-axes' lockout per user and IP.

    allauth authenticates with ``email=``; the admin and other forms post ``login`` or
    ``username``.
    """
    credentials = credentials or {}
    for key in ("email", "username", "login"):
        value = credentials.get(key) or (request.POST.get(key) if request is not None else None)
        if value:
            return str(value).strip().lower()
    return None
