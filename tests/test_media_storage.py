"""Where photos and logos are stored is a setting (MEDIA_STORAGE_BACKEND and its
MEDIA_STORAGE_OPTIONS), and production hears (shop.W001) when they are local files
at a relative MEDIA_URL that nothing serves."""

import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from shop.checks import media_served_check

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "config" / "settings.py"
FILE_SYSTEM = "django.core.files.storage.FileSystemStorage"


@pytest.fixture
def read_settings(monkeypatch, tmp_path):
    """The settings module run afresh with `env` (django.conf.settings is untouched)."""

    def read(**env: str) -> dict:
        for name in ("MEDIA_STORAGE_BACKEND", "MEDIA_STORAGE_OPTIONS", "SENTRY_DSN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("VAR_DIR", str(tmp_path))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return read


# --- Reading the settings -----------------------------------------------------------


def test_by_default_media_are_files_in_var_dir_media(read_settings, tmp_path):
    values = read_settings()

    assert values["STORAGES"]["default"] == {"BACKEND": FILE_SYSTEM, "OPTIONS": {}}
    assert values["MEDIA_ROOT"] == tmp_path.resolve() / "media"


def test_the_backend_and_its_options_come_from_the_environment(read_settings):
    values = read_settings(
        MEDIA_STORAGE_BACKEND="storages.backends.s3.S3Storage",
        MEDIA_STORAGE_OPTIONS='{"bucket_name": "shop-media", "querystring_auth": false}',
    )

    assert values["STORAGES"]["default"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "shop-media", "querystring_auth": False},
    }
    assert "staticfiles" in values["STORAGES"]  # static files keep their own storage


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("{bucket_name: shop}", "MEDIA_STORAGE_OPTIONS is not valid JSON"),
        ('["shop-media"]', "MEDIA_STORAGE_OPTIONS must be a JSON object"),
    ],
)
def test_options_that_are_not_a_json_object_stop_the_start(read_settings, options, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        read_settings(MEDIA_STORAGE_OPTIONS=options)


def test_silenced_checks_come_from_the_environment(read_settings):
    values = read_settings(SILENCED_SYSTEM_CHECKS="shop.W001")
    assert values["SILENCED_SYSTEM_CHECKS"] == ["shop.W001"]


# --- The check ----------------------------------------------------------------------


def storage(backend: str = FILE_SYSTEM, **options) -> dict:
    return {**settings.STORAGES, "default": {"BACKEND": backend, "OPTIONS": options}}


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_production_with_local_files_at_a_relative_url_is_warned(settings):
    settings.DEBUG = False
    settings.MEDIA_URL = "/media/"
    settings.STORAGES = storage()

    (warning,) = media_served_check()

    assert isinstance(warning, checks.Warning)
    assert warning.id == "shop.W001"
    assert "'/media/'" in warning.msg
    assert "SILENCED_SYSTEM_CHECKS" in warning.hint


def test_the_check_runs_with_djangos_checks_and_can_be_silenced(settings):
    settings.DEBUG = False
    settings.MEDIA_URL = "media/"
    settings.STORAGES = storage()

    def reported() -> list[str]:
        found = checks.run_checks(tags=[checks.Tags.files])
        return ids(message for message in found if not message.is_silenced())

    assert "shop.W001" in reported()
    settings.SILENCED_SYSTEM_CHECKS = ["shop.W001"]
    assert "shop.W001" not in reported()


@pytest.mark.parametrize(
    ("debug", "media_url", "backend", "options"),
    [
        (True, "media/", FILE_SYSTEM, {}),  # the demo: Django serves them
        (False, "https://media.example.com/", FILE_SYSTEM, {}),  # a CDN in front
        (False, "//media.example.com/", FILE_SYSTEM, {}),
        (False, "media/", FILE_SYSTEM, {"base_url": "https://cdn.example.com/m/"}),
        (False, "media/", "django.core.files.storage.InMemoryStorage", {}),  # not on disk
        (False, "media/", "no.such.Storage", {}),  # Django reports that one itself
    ],
)
def test_no_warning_where_something_serves_the_files(settings, debug, media_url, backend, options):
    settings.DEBUG = debug
    settings.MEDIA_URL = media_url
    settings.STORAGES = storage(backend, **options)

    assert media_served_check() == []


def test_a_subclass_of_the_file_system_storage_is_local_files_too(settings):
    settings.DEBUG = False
    settings.MEDIA_URL = "media/"
    settings.STORAGES = storage("django.core.files.storage.filesystem.FileSystemStorage")

    assert ids(media_served_check()) == ["shop.W001"]
