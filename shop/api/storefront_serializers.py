"""Shapes of the seller's shop page endpoint (/api/seller/storefront/)."""

from django.core.files.storage import default_storage
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shop.forms import DESCRIPTION_MAX
from shop.images import FORMATS
from shop.models import Storefront

NAME_MAX = 100  # Storefront.name's length


class StorefrontSerializer(serializers.Serializer):
    slug = serializers.SlugField(help_text="The shop's page is /shops/{slug}/.")
    name = serializers.CharField()
    description = serializers.CharField()
    logo_url = serializers.SerializerMethodField(help_text="Null without a logo.")
    url = serializers.CharField(source="get_absolute_url", help_text="The public page.")
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_logo_url(self, storefront: Storefront) -> str | None:
        return default_storage.url(storefront.logo.name) if storefront.logo else None


class StrictBooleanField(serializers.BooleanField):
    """true or false as JSON says them: not 0, 1 or "yes", which the schema refuses."""

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictCharField(serializers.CharField):
    """A JSON string: DRF would take 0 as "0", which the schema refuses."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StorefrontInputSerializer(serializers.Serializer):
    """The fields to change, each optional (JSON)."""

    name = StrictCharField(max_length=NAME_MAX, help_text="The shop's name.")
    description = StrictCharField(max_length=DESCRIPTION_MAX, allow_blank=True)
    remove_logo = StrictBooleanField(help_text="True removes the current logo.")


class StorefrontLogoInputSerializer(serializers.Serializer):
    """A new logo, as multipart."""

    logo = serializers.FileField(
        help_text=f"{', '.join(FORMATS)}; re-encoded without metadata; at most "
        "PRODUCT_PHOTO_MAX_BYTES."
    )
