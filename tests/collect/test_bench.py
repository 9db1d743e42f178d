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


def test_the_wrk_script_gives_each_submission_its_own_uuid_and_stops_each_thread_after_its_share():
    from oa_platform.collect.management.commands.bench_collect import lua_burst  # a command, not a library

    script = lua_burst(
        mode="post",
        path="/api/x/",
        total=7,
        threads=2,
        dir="/tmp/d",
        record=True,
        token="tok",
        run="0a1b2c3d",
        options=["o-1", "o-2", "o-3"],
    )
    assert 'local mode, path, token, total, run = "post", "/api/x/", "tok", 7, "0a1b2c3d"' in script
    assert 'local dir, record = "/tmp/d", true' in script and 'local options = {"o-1", "o-2", "o-3"}' in script
    # each thread's share: 7 over 2 threads is 4 + 3
    assert "share = math.floor(total / 2) + ((tid <= total % 2) and 1 or 0)" in script
    assert 'string.format("%s-%04x-4000-8000-%012x", run, tid, i)' in script
    assert uuid.UUID(f"0a1b2c3d-{2:04x}-4000-8000-{99_999:012x}").hex == f"0a1b2c3d000240008000{99_999:012x}"
    # a thread stops once every request it issued is answered (or lost with its connection), and says so
    assert "if issued >= share and answered + lost >= issued + extra then" in script
    assert 'io.open(dir .. "/done-" .. tid, "w"):close()' in script and "wrk.thread:stop()" in script
    assert 'local dir, record = "/tmp/d", false' in lua_burst(
        mode="get", path="/healthz", total=3, threads=1, dir="/tmp/d"
    )
