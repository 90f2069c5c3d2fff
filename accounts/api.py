"""Tokens for the API: one from e-mail and password for scripts of accounts without two-factor
authentication; every account manages its tokens on its profile page (accounts.views)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from cooperanet.api import TokenThrottle


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description=_("Wrong e-mail address or password.")),
            403: OpenApiResponse(
                description=_("The account uses two-factor authentication or is unverified.")
            ),
        },
        summary=_("Create a token from e-mail and password"),
        description=_(
            "For accounts without two-factor authentication. Send the token as "
            "'Authorization: Token <token>'. It expires after 90 days; revoke it on your "
            "profile page or with DELETE /api/v1/auth/token/current/."
        ),
        auth=[],
    )
    def post(self, request):
        credentials = TokenRequestSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        token, secret = services.api_token_for_password(
            request=request._request, **credentials.validated_data
        )
        return Response(TokenSerializer({"token": secret, "expiry": token.expiry}).data)


class CurrentTokenView(APIView):
    """The token this request was made with."""

    rules = {"delete": "accounts.create_api_token"}

    @extend_schema(request=None, responses={204: None}, summary=_("Revoke the token in use"))
    def delete(self, request):
        if request.auth is None or not hasattr(request.auth, "digest"):
            raise serializers.ValidationError(_("This request was not made with a token."))
        services.api_token_revoke(token=request.auth, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """django-axes' answer once an address is locked out: the API's error shape under
    /api/, the explanatory page elsewhere."""
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "type": "client_error",
                "errors": [
                    {
                        "code": "throttled",  # the documented 429 code; the detail says why
                        "detail": _("Too many failed sign-in attempts: try again in 30 minutes."),
                        "attr": None,
                    }
                ],
            },
            status=429,
        )
        response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
        return response
    return render(request, "accounts/locked_out.html", status=429)
