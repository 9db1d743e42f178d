"""Shared fixtures. Every tenant-scoped test gets two agencies so it can assert the other one sees nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.conf import settings

from tests import factories


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    backend = db["ENGINE"].rsplit(".", 1)[-1]
    where = db.get("HOST") or db.get("NAME")
    redis = settings.REDIS_URL or "none (in-memory cache and channel layer)"
    return [f"database backend: {backend} ({where})", f"redis: {redis}"]


@pytest.fixture(autouse=True)
def _eager_celery_and_clean_cache(settings):
    """Unit tests run tasks in-process; tests marked ``worker`` start a real worker instead."""
    from django.core.cache import cache

    from oa_platform.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    # PBKDF2 costs ~0.7 s per password here; the tenant fixtures create eight users per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from oa_platform.conversations.engine import rate_limits_reset

    cache.clear()
    rate_limits_reset()
    yield
    cache.clear()


@pytest.fixture
def rate_window_start(time_machine):
    """Rate limits count in fixed windows of the wall clock: a test that fills one starts at the top of a
    minute (the clock keeps running), so a window boundary never falls between its requests."""
    time_machine.move_to("2026-12-03 03:00:00+00:00", tick=True)


@dataclass
class Tenant:
    account: object
    manager: object
    editor: object
    broadcaster: object
    approver: object
    token: str


def _tenant(slug: str) -> Tenant:
    from oa_platform.models import ApiToken, Membership

    account = factories.make_account(slug)
    return Tenant(
        account=account,
        manager=factories.make_staff(account, Membership.ROLE_MANAGER, f"{slug}-manager"),
        editor=factories.make_staff(account, Membership.ROLE_EDITOR, f"{slug}-editor"),
        broadcaster=factories.make_staff(account, Membership.ROLE_BROADCASTER, f"{slug}-broadcaster"),
        approver=factories.make_staff(account, Membership.ROLE_APPROVER, f"{slug}-approver"),
        token=factories.make_token(account, scopes=ApiToken.ALL_SCOPES),
    )


@pytest.fixture
def tenant_a(db) -> Tenant:
    return _tenant("agency-a")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return _tenant("agency-b")


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


def pytest_collection_modifyitems(config, items):
    in_ci = os.environ.get("CI") == "true"
    if in_ci:
        return
    # Outside CI, tests that need a service this machine lacks are skipped with a reason in the summary (-ra).
    # In CI (CI=true) nothing is skipped: a missing service fails the run.
    needs = {
        "postgres": (
            settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
            "needs PostgreSQL (DATABASE_URL)",
        ),
        "worker": (bool(settings.REDIS_URL), "needs Redis (REDIS_URL) for a real Celery worker"),
        "redis": (bool(settings.REDIS_URL), "needs Redis (REDIS_URL)"),
        "browser": (os.path.exists("/usr/bin/chromium"), "needs Debian's chromium at /usr/bin/chromium"),
    }
    for item in items:
        for marker, (available, reason) in needs.items():
            if marker in item.keywords and not available:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends with a flush of every table, which also empties the areas that a data
    migration ships. Put them back once the flush is done, so later tests see the database as migrated."""
    yield
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    transactional = bool(
        (marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
        or fixtures & {"transactional_db", "live_server"}
    )
    if not transactional or nextitem is None:
        return
    from pytest_django.plugin import blocking_manager_key

    from oa_platform.areas import load_areas
    from oa_platform.models import Area

    with item.config.stash[blocking_manager_key].unblock():
        if not Area.objects.exists():
            load_areas(Area)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Close the PostgreSQL connection pools before the test database is dropped (a pooled connection
    still attached would keep PostgreSQL from dropping it)."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all(initialized_only=True):
            close_pool = getattr(connection, "close_pool", None)
            if close_pool is not None:
                close_pool()
            connection.close()
