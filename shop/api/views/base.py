"""What every API view shares: JSON in and out, write throttles, validation helper."""

from collections.abc import Sequence
from typing import Any, TypeVar

from django.http import QueryDict
from rest_framework import generics, serializers
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts.models import User

from ..throttling import WriteRateThrottle

S = TypeVar("S", bound=serializers.Serializer)


class ApiMixin:
    parser_classes: Sequence[type[BaseParser]] = [JSONParser]
    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer]
    throttle_classes: Sequence[type[BaseThrottle]] = [WriteRateThrottle]


class ApiView(ApiMixin, APIView):
    pass


class ApiListView(ApiMixin, generics.ListAPIView):
    pass


def validated(serializer_class: type[S], data: Any) -> dict[str, Any]:
    """The serializer's validated data, or a ValidationError (→ 400 with field errors).

    Query strings are read as a plain dict: DRF would treat `?status=` like a missing
    parameter, but the schema says an empty value is not a status.
    """
    if isinstance(data, QueryDict):
        data = data.dict()
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def current_user(request: Any) -> User:
    """The logged-in user (views that call this require authentication)."""
    user = request.user
    assert isinstance(user, User)
    return user
