"""The collection benchmark's load generator (oa_platform/collect/management/commands/bench_collect.py)
against a real ASGI server: concurrent submissions with fresh client ids are all stored once, and resending
them stores nothing more."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from oa_platform.collect.management.commands.bench_collect import _load
from oa_platform.collect.models import Response, Round, Submission
from oa_platform.models import ApiToken
from tests import factories
from tests.browser.conftest import asgi_server  # noqa: F401 (the live server fixture, used by name)
from tests.collect.builders import GOOD, make_form

# PostgreSQL: concurrent writers on the test suite's in-memory SQLite meet "database table is locked".
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_concurrent_burst_is_stored_exactly_once(asgi_server):  # noqa: F811
    account = factories.make_account("bench-test")
    form = make_form(account)
    token = factories.make_token(account, scopes=[ApiToken.SCOPE_FORMS_RESPOND])
    path = f"/api/v1/accounts/{account.slug}/forms/{form.pk}/responses/"
    bodies = [
        ("POST", path, json.dumps({"citizen_id": f"b-{i}", "client_id": str(uuid.uuid4()), "answers": GOOD}).encode())
        for i in range(30)
    ]
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    burst = asyncio.run(_load(asgi_server, bodies, 8, headers))
    resent = asyncio.run(_load(asgi_server, bodies[:10], 8, headers))
    assert burst["statuses"] == {"201": 30} and burst["errors"] == 0
    assert resent["statuses"] == {"200": 10}
    assert Response.objects.count() == 30 and Submission.objects.count() == 30
    assert Round.objects.get(form=form).responded == 30
