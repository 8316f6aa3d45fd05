"""Tokens and the current user."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from ..errors import ApiError, error_responses
from ..serializers import MeSerializer, TokenInputSerializer, TokenSerializer
from .base import ApiView, validated


class TokenObtainView(ApiView):
    # No session authentication here: a browser's stale session must not demand a CSRF token.
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "auth"

    @extend_schema(
        operation_id="auth_token_create",
        summary="Get an API token with email and password",
        tags=["auth"],
        request=TokenInputSerializer,
        responses={200: TokenSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = validated(TokenInputSerializer, request.data)
        # Through authenticate(): django-axes counts the failures and locks the address
        # out (accounts/lockout.py answers 429), as for the web and admin logins.
        user = authenticate(
            request._request, email=data["email"].lower(), password=data["password"]
        )
        if user is None:
            raise ApiError(
                status_code=400,
                code="invalid_credentials",
                message="Unable to log in with this email and password.",
            )
        # A new token per request, stored hashed (django-rest-knox): it expires after
        # REST_KNOX["TOKEN_TTL"] without use and is revoked by logging out.
        instance, token = AuthToken.objects.create(user=user)
        return Response(TokenSerializer({"token": token, "expiry": instance.expiry}).data)


class TokenRevokeView(ApiView):
    throttle_scope = "auth"

    @extend_schema(
        operation_id="auth_token_destroy",
        summary="Log out: revoke the token this request was made with",
        tags=["auth"],
        request=None,
        # 403: a session-authenticated POST without its CSRF token.
        responses={204: None, **error_responses(401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        return Response(status=204)


class TokenRevokeAllView(ApiView):
    throttle_scope = "auth"

    @extend_schema(
        operation_id="auth_token_destroy_all",
        summary="Log out everywhere: revoke every token of this user",
        tags=["auth"],
        request=None,
        # 403: a session-authenticated POST without its CSRF token.
        responses={204: None, **error_responses(401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        AuthToken.objects.filter(user=request.user).delete()
        return Response(status=204)


class MeView(ApiView):
    @extend_schema(
        operation_id="me_retrieve",
        summary="The logged-in user",
        tags=["auth"],
        responses={200: MeSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
