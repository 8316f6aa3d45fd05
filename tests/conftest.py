"""Suite-wide fixtures and the rule that CI never silently skips its services."""

import os

import pytest

# Playwright's sync API runs an asyncio loop in the test thread while a browser is
# open (for a whole module or session); Django's async-safety check would then refuse
# the database to every test that follows on the same worker, though none is async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The live stack's fixtures (sandbox, Celery worker, live_stack), one instance per
# session for tests/integration and tests/e2e alike.
pytest_plugins = ["tests.live_stack"]


def pytest_sessionstart(session):
    """With REQUIRE_SERVICES=1 (CI), a missing PostgreSQL or Redis fails the run."""
    if os.environ.get("REQUIRE_SERVICES") != "1":
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(f"REQUIRE_SERVICES=1 but the database is {engine}, not PostgreSQL")
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=3).ping()
    except Exception as exc:
        raise pytest.UsageError(f"REQUIRE_SERVICES=1 but Redis is unreachable: {exc}") from exc


# `make test` runs the suite on parallel workers (pytest-xdist, one module per worker
# at a time, handed out in collection order): the longest modules go first, so they
# run beside the many short ones instead of after them.
# (The fault suite's stack first, and the demo starts once it is done, so that the
# heaviest processes do not all compete for the cores at once.)
LONGEST_FIRST = (
    "tests/chaos/",
    "tests/e2e/",
    "tests/integration/",
    "tests/journey/",
    "tests/test_demo.py",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        path = item.nodeid
        return next(
            (i for i, folder in enumerate(LONGEST_FIRST) if path.startswith(folder)),
            len(LONGEST_FIRST),
        )

    items.sort(key=rank)  # stable: each module keeps its own order


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """The suite makes thousands of users and logins: MD5 instead of PBKDF2's million
    rounds (a third of a second each on a CI core). The processes of the demo, the
    journeys and the fault suite keep the real hasher."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session")
def playwright_session():
    """One Playwright per test process, started when a browser test first needs it.

    Its sync API runs an asyncio loop in this thread while it is started, and a second
    `sync_playwright()` in the same thread is refused: every browser fixture launches
    its Chromium from this one (a worker runs modules of several folders in turn).
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(autouse=True)
def _uploads_in_a_temp_folder(settings, tmp_path):
    """Uploaded files (kept documents, photos) never land in the demo's var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and reused Stripe reads never leak from one test to the next
    (ids repeat across tests: payment 1 of one test is not payment 1 of another)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def buyer(db):
    from tests.factories import BuyerFactory

    return BuyerFactory()


@pytest.fixture
def contractor(db):
    from tests.factories import ContractorFactory

    return ContractorFactory()


@pytest.fixture
def staff_user(db):
    from tests.factories import StaffFactory

    return StaffFactory()


@pytest.fixture
def celery_eager():
    """Run tasks inline, for unit tests of code that enqueues them."""
    from config.celery import app

    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def buyable_product(db):
    """A product of a contractor who has finished Connect onboarding."""
    from tests.factories import ProductFactory

    return ProductFactory(
        seller__profile__charges_enabled=True,
        seller__profile__stripe_id="acct_seller1",
    )
