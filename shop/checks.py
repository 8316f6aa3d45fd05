"""System checks for the shop's files: product photos and shop logos.

Django serves MEDIA_URL itself only with DEBUG on (config/urls.py). In production a
photo saved to local disk under a relative MEDIA_URL ("media/") is a broken image
on every page unless the proxy serves MEDIA_ROOT there; nothing else would say so.
"""

from django.conf import settings
from django.core import checks
from django.core.files.storage import FileSystemStorage
from django.utils.module_loading import import_string

ABSOLUTE_URL_PREFIXES = ("http://", "https://", "//")


@checks.register(checks.Tags.files)
def media_served_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """With DEBUG off, media on the local file system at a relative URL (nobody serves it
    unless the proxy does)."""
    if settings.DEBUG:
        return []
    storage = settings.STORAGES.get("default", {})
    try:
        backend = import_string(storage.get("BACKEND", ""))
    except ImportError:
        return []  # Django's own storage loading reports a backend that is not there
    if not (isinstance(backend, type) and issubclass(backend, FileSystemStorage)):
        return []
    url = (storage.get("OPTIONS") or {}).get("base_url") or settings.MEDIA_URL or ""
    if str(url).startswith(ABSOLUTE_URL_PREFIXES):
        return []
    return [
        checks.Warning(
            f"Product photos and shop logos are files in MEDIA_ROOT, served at the relative "
            f"MEDIA_URL {url!r}: Django does not serve them with DEBUG off.",
            hint="Have the proxy serve MEDIA_ROOT at MEDIA_URL (then add shop.W001 to "
            "SILENCED_SYSTEM_CHECKS), set MEDIA_URL to the absolute address that serves "
            "them, or set MEDIA_STORAGE_BACKEND to an object storage (README: Production).",
            id="shop.W001",
        )
    ]
