"""Brute force: web, admin and API logins share one lockout; forged addresses change nothing."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import PASSWORD, BuyerFactory, StaffFactory

pytestmark = pytest.mark.django_db

WEB = "/accounts/login/"
ADMIN = "/admin/login/"
TOKEN = "/api/auth/token/"


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_FAILURE_LIMIT = 5
    cache.clear()
    yield
    cache.clear()


def web_login(client, email, password, **extra):
    return client.post(WEB, {"username": email, "password": password}, **extra)


def admin_login(client, email, password, **extra):
    return client.post(ADMIN, {"username": email, "password": password}, **extra)


def token_login(client, email, password, **extra):
    return APIClient().post(TOKEN, {"email": email, "password": password}, format="json", **extra)


@pytest.mark.parametrize("login", [web_login, admin_login, token_login])
def test_the_fifth_wrong_password_locks_the_address_out_even_for_the_right_one(client, login):
    user = StaffFactory() if login is admin_login else BuyerFactory()

    wrong = [login(client, user.email, f"guess-{i}").status_code for i in range(5)]
    right = login(client, user.email, PASSWORD)

    assert 429 not in wrong[:4]
    assert wrong[4] == 429
    assert right.status_code == 429
    assert "Too many failed sign-in attempts" in right.content.decode()


def test_the_api_lockout_answers_in_the_api_error_format(client):
    user = BuyerFactory()
    for _ in range(5):
        token_login(client, user.email, "wrong")

    response = token_login(client, user.email, PASSWORD)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert int(response["Retry-After"]) > 0


def test_failures_on_one_login_count_towards_the_others(client):
    user = BuyerFactory()
    for login in (web_login, web_login, token_login, token_login, admin_login):
        login(client, user.email, "wrong")

    assert web_login(client, user.email, PASSWORD).status_code == 429


def test_a_new_x_forwarded_for_per_try_does_not_reset_the_count(client, settings):
    settings.NUM_PROXIES = 0
    user = BuyerFactory()
    for i in range(5):
        web_login(client, user.email, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")

    response = web_login(client, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert response.status_code == 429


def test_behind_one_proxy_the_proxys_entry_is_the_client(client, settings):
    """The client may prepend anything; only the proxy's own entry (rightmost) counts."""
    settings.NUM_PROXIES = 1
    user = BuyerFactory()
    for i in range(5):
        forged = f"203.0.113.{i}, 192.0.2.10"  # the forged part first, the proxy's last
        web_login(client, user.email, "wrong", HTTP_X_FORWARDED_FOR=forged)

    same_client = web_login(
        client, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99, 192.0.2.10"
    )
    other_client = web_login(client, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.11")

    assert same_client.status_code == 429
    assert other_client.status_code == 302


def test_a_successful_login_resets_the_count(client):
    user = BuyerFactory()
    for _ in range(4):
        web_login(client, user.email, "wrong")
    assert web_login(client, user.email, PASSWORD).status_code == 302
    client.logout()

    for _ in range(4):
        web_login(client, user.email, "wrong")

    assert web_login(client, user.email, PASSWORD).status_code == 302


def test_the_api_throttle_ignores_a_forged_x_forwarded_for(settings):
    settings.NUM_PROXIES = 0
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "NUM_PROXIES": 0,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "auth": "3/min",
        },
    }
    settings.AXES_FAILURE_LIMIT = 100  # the throttle alone, here
    body = {"email": "nobody@example.com", "password": "x"}

    statuses = [
        APIClient()
        .post(TOKEN, body, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
        .status_code
        for i in range(6)
    ]

    assert statuses == [400, 400, 400, 429, 429, 429]


REDIS = "redis://127.0.0.1:6379/0"


def _settings_with(**env):
    """config.settings as a fresh process reads them with `env`."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'caches': s.CACHES, 'num_proxies': s.REST_FRAMEWORK['NUM_PROXIES']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_redis_the_counters_live_in_redis_apart_from_the_broker():
    found = _settings_with(REDIS_URL=REDIS, CACHE_URL="", NUM_PROXIES="1")

    assert found["caches"]["default"]["BACKEND"] == "core.cache.ResilientRedisCache"
    assert found["caches"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/1"
    assert found["num_proxies"] == 1


def test_without_redis_the_embedded_demo_keeps_counters_in_memory():
    found = _settings_with(REDIS_URL="", CACHE_URL="")

    assert found["caches"]["default"]["BACKEND"].endswith("LocMemCache")
    assert found["num_proxies"] == 0


def test_two_web_processes_share_one_throttle_count():
    """Each gunicorn worker had its own memory counter: 37 of 40 tries passed a limit of 10.

    Two cache clients on Redis stand for two workers; the tries alternate between them.
    """
    import os

    import redis
    from django.contrib.auth.models import AnonymousUser
    from django.core.cache.backends.redis import RedisCache
    from django.test import RequestFactory
    from rest_framework.throttling import AnonRateThrottle

    try:
        redis.Redis.from_url(REDIS, socket_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            raise
        pytest.skip("Redis is not running here (CI requires it)")
    prefix = f"test-shared-{os.getpid()}"
    workers = [RedisCache("redis://127.0.0.1:6379/1", {"KEY_PREFIX": prefix}) for _ in range(2)]
    workers[0].clear()

    class TenPerMinute(AnonRateThrottle):
        rate = "10/min"

    request = RequestFactory().post(TOKEN, REMOTE_ADDR="198.51.100.1")
    request.user = AnonymousUser()
    allowed = 0
    for attempt in range(40):
        throttle = TenPerMinute()
        throttle.cache = workers[attempt % 2]
        allowed += throttle.allow_request(request, view=None)

    assert allowed == 10
