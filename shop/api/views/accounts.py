"""Tokens and the current user."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.models import Token
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
        user = authenticate(
            request._request, email=data["email"].lower(), password=data["password"]
        )
        if user is None:
            raise ApiError(
                status_code=400,
                code="invalid_credentials",
                message="Unable to log in with this email and password.",
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response(TokenSerializer({"token": token.key}).data)


class MeView(ApiView):
    @extend_schema(
        operation_id="me_retrieve",
        summary="The logged-in user",
        tags=["auth"],
        responses={200: MeSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
