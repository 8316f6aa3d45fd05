"""/healthz and /readyz: what a load balancer or orchestrator asks."""

from unittest import mock

import pytest

from ops import readiness
from payments import gateway

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_probe_state(monkeypatch):
    monkeypatch.setattr(readiness, "_migrations_applied", False)
    monkeypatch.setattr(readiness, "_stripe_last", None)


@pytest.fixture
def stripe_up(monkeypatch):
    fake = mock.Mock(return_value={"object": "balance"})
    monkeypatch.setattr(gateway, "balance_retrieve", fake)
    return fake


def test_healthz_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ready_when_database_broker_cache_and_migrations_are(client, stripe_up):
    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ready"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "migrations",
        "broker",
        "cache",
        "stripe",
    }


def test_a_broker_that_does_not_answer_makes_it_503(client, stripe_up):
    from kombu import Connection

    from config.celery import app

    nobody_there = Connection("redis://127.0.0.1:9/0")  # a port no broker listens on
    with mock.patch.object(app, "connection_for_write", return_value=nobody_there):
        response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "not ready"
    assert body["checks"]["broker"]["ok"] is False
    assert "127.0.0.1" not in str(body)  # the public probe names no address
    assert body["checks"]["database"]["ok"] is True


def test_unapplied_migrations_make_it_503(client, stripe_up):
    with mock.patch.object(
        readiness.MigrationExecutor, "migration_plan", return_value=[("app", "0002")]
    ):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {
        "ok": False,
        "detail": "1 migration(s) not applied",
    }


def test_stripe_down_is_reported_but_still_ready(client, monkeypatch):
    down = mock.Mock(side_effect=gateway.GatewayUnavailable("timeout"))
    monkeypatch.setattr(gateway, "balance_retrieve", down)

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["stripe"] == {
        "ok": False,
        "detail": "GatewayUnavailable",
        "required": False,
    }


def test_stripe_is_asked_at_most_once_a_minute_per_process(client, stripe_up):
    for _ in range(5):
        client.get("/readyz")

    assert stripe_up.call_count == 1
