"""Production-like settings pass Django's deployment checklist without a warning."""

import os
import subprocess
import sys
from pathlib import Path

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


def test_check_deploy_is_clean_with_production_values():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY="x7$Kq!v9Zp2#Lr8@Wm4^Tn6&Bs1*Yc3(Hd5)Jf0_Ge-Ua+Io=Ek",
        ALLOWED_HOSTS="shop.example.com",
        DATABASE_URL="postgres://shop@db.example.com:5432/shop",
        REDIS_URL="redis://cache.example.com:6379/0",
        STRIPE_SECRET_KEY="sk_test_example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="False", ALLOWED_HOSTS="shop.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
