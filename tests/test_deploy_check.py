"""Production-like settings pass Django's deployment checklist without a warning."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG"))}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "x7$Kq!v9Zp2#Lr8@Wm4^Tn6&Bs1*Yc3(Hd5)Jf0_Ge-Ua+Io=Ek",
    "ALLOWED_HOSTS": "shop.example.com",
    "DATABASE_URL": "postgres://shop@db.example.com:5432/shop",
    "REDIS_URL": "redis://cache.example.com:6379/0",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_platform_from_the_dashboard",
    "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_connect_from_the_dashboard",
    # Where photos are served: with DEBUG off Django serves none (shop.W001).
    "MEDIA_URL": "https://media.example.com/",
}
STRIPE_NAMES = [name for name in PRODUCTION if name.startswith("STRIPE_")]


def test_check_deploy_is_clean_with_production_values():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="False", ALLOWED_HOSTS="shop.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("missing", STRIPE_NAMES)
def test_production_refuses_to_start_without_each_stripe_secret(missing):
    env = {**PRODUCTION, missing: ""}

    result = run_manage("check", **env)

    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr
    assert "Refusing to start with DEBUG=False" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STRIPE_SECRET_KEY", "sk_test_sandbox"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_sandbox"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_sandbox_platform"),
        ("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_sandbox_connect"),
    ],
)
def test_production_refuses_the_sandboxs_published_defaults(name, value):
    result = run_manage("check", **{**PRODUCTION, name: value})

    assert result.returncode != 0
    assert f"{name} is the offline sandbox's published default" in result.stderr


def test_check_deploy_reports_sandbox_secrets_even_with_debug_on():
    """A deployer who runs the checklist before switching DEBUG off hears it too."""
    env = {**PRODUCTION, "DEBUG": "True"}
    for name in STRIPE_NAMES:
        env.pop(name)

    result = run_manage("check", "--deploy", **env)

    assert result.returncode != 0
    assert "payments.E001" in result.stderr
    assert "STRIPE_WEBHOOK_SECRET is the offline sandbox's published default" in result.stderr
