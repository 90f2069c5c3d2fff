"""What every endpoint of /api/v1/ shares: one permission class naming the rules, page-number
pagination with a capped size and throttles. The one error shape is in ``api_errors``."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from rest_framework import exceptions, pagination, permissions, throttling
from rest_framework.negotiation import BaseContentNegotiation


def _rule(request, view) -> str | None:
    """The permission a view names for this request: by viewset action, or by HTTP method
    (lower case) for a plain APIView."""
    action = getattr(view, "action", None) or request.method.lower()
    return getattr(view, "rules", {}).get(action)


class ApiPermission(permissions.BasePermission):
    """Reading follows the querysets (selectors decide what exists for whom); every other
    action names a permission of the ``rules`` registry in the view's ``rules`` map, checked
    without an object for collection actions and with the object for detail actions. The
    services check the same permission again: the API never decides alone."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        rule = _rule(request, view)
        if rule is None:
            return False
        if getattr(view, "detail", False):
            return True  # checked with the object below
        return request.user.has_perm(rule)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        rule = _rule(request, view)
        return rule is not None and request.user.has_perm(rule, obj)


class Pagination(pagination.PageNumberPagination):
    """Page numbers in DRF's shape. A view may count its rows itself (``count_rows``), for
    instance from a cache, rather than by a COUNT of the whole query each time."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self.view = view
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(self, queryset, per_page):
        paginator = Paginator(queryset, per_page)
        count_rows = getattr(self.view, "count_rows", None)
        if count_rows is not None:
            paginator.count = count_rows(queryset)  # in place of its cached COUNT(*)
        return paginator


class _SettingsRate:
    """Rates come from settings.API_THROTTLE_RATES when a request is throttled (not at import),
    so a deployment and the tests set them in one place."""

    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]


class AnonymousThrottle(_SettingsRate, throttling.AnonRateThrottle):
    scope = "anonymous"


class UserThrottle(_SettingsRate, throttling.UserRateThrottle):
    scope = "user"


class TokenThrottle(_SettingsRate, throttling.AnonRateThrottle):
    """Password attempts for a token, per client address (axes also locks the account)."""

    scope = "token"


class FileDownloadNegotiation(BaseContentNegotiation):
    """For endpoints that answer a file (IATI XML, exports) whatever the client accepts: the
    view's first renderer, JSON, speaks only for errors."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None
