"""Schemathesis generates requests for every operation of the schema served at /api/schema/ and sends them to
the app in-process (WSGI, inside the test's transaction) with a real token of the account: every answer must
be no 5xx, a declared status code, a declared content type and a body that validates against the schema.

Bounded and reproducible: a few examples per operation and generation mode, ``derandomize`` (the examples
follow from the test's code, not from a random seed or the example database), no deadline (this machine is
shared), and a frozen clock (``send_at`` and quiet hours are compared with now)."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from broadcasts.fanout import dispatcher_tick
from broadcasts.personal.models import TemplateVersion
from broadcasts.personal.services import notification_create, template_save
from broadcasts.services import Actor, notice_submit
from tests.broadcasts.conftest import approved, draft, follower
from tests.broadcasts.test_cap import CAP
from tests.collect.builders import GOOD, QUESTIONS, make_form
from tests.personal.conftest import VALUES, approved_template

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation and scenario (generation mode x path parameters): about 400 requests in all, ~4 s
# here; 150 (~100 s) found nothing more on 2026-12-04 and would only slow the suite.
MAX_EXAMPLES = 5
BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # the data is generated from the schema, not filtered by us; the health checks only measure speed
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def api_schema(db):
    # The app runs in-process inside the test's transaction: like Django's test client, keep the request
    # signals from closing that connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def notices(tenant) -> list[int]:
    """Fresh notices an {id} operation can act on: a draft and one waiting for a second person's approval
    (the operations before it may have submitted, approved or cancelled the previous ones)."""
    pending = draft(tenant)
    notice_submit(notice=pending, actor=Actor(user=tenant.broadcaster))
    pending.refresh_from_db()
    assert pending.status == "pending_approval"
    return [draft(tenant).pk, pending.pk]


@pytest.fixture
def sent_notice(tenant_a, django_capture_on_commit_callbacks) -> int:
    """A sent notice (follow-ups, progress, CAP export of a sent one)."""
    follower(tenant_a.account, topics=["storm-flood"])
    sent = approved(tenant_a)
    with django_capture_on_commit_callbacks(execute=True):  # the chunk tasks run eagerly after the commit
        dispatcher_tick()
    sent.refresh_from_db()
    assert sent.status == "sent"
    return sent.pk


def pending_template(tenant) -> str:
    """A fresh personal notice template waiting for approval, written by a person (the token may approve it)."""
    key = f"tpl-{TemplateVersion.objects.count() + 1}"
    template_save(account=tenant.account, actor=Actor(user=tenant.broadcaster), key=key, name=key, body_vi="((name))")
    return key


def notifications(tenant) -> list[int]:
    """A personal notification of the account (queued) to read."""
    notification, _created = notification_create(
        account=tenant.account,
        actor=Actor(user=tenant.broadcaster),
        template_key="vaccination",
        phone="0912345678",
        personalisation=VALUES,
    )
    return [notification.pk]


def valid_bodies(now) -> dict[str, tuple[object, str]]:
    """A valid body for the operations whose bodies name things the schema cannot list (the account's
    topics) or that are XML: generated ones are refused with a 400, so the success answer needs these."""
    expires = (now + dt.timedelta(hours=6)).replace(microsecond=0).isoformat()
    notice = {"category": "storm-flood", "severity": "severe", "title_vi": "Bão", "body_vi": "Bão số 3"}
    form = {"key": "generated-valid", "title_vi": "Báo cáo", "questions": QUESTIONS}
    answer = {"citizen_id": "c1", "client_id": "7f1c4c4e-8a4b-4c55-9a55-0d9a2b8c1f00", "answers": GOOD}
    return {
        "POST /api/v1/accounts/{slug}/notices/": (notice, "application/json"),
        "POST /api/v1/accounts/{slug}/notices/cap/": (CAP.format(expires=expires).encode(), "application/xml"),
        "POST /api/v1/accounts/{slug}/notifications/": (
            {"template": "vaccination", "phone": "0912345678", "personalisation": VALUES},
            "application/json",
        ),
        "POST /api/v1/accounts/{slug}/templates/": (
            {"key": "card", "name": "Card", "body_vi": "Căn cước của ((name)) đã có"},
            "application/json",
        ),
        "PUT /api/v1/accounts/{slug}/notifications/callback/": (
            {"url": "https://example.gov.vn/hook", "secret": "s" * 20},
            "application/json",
        ),
        "POST /api/v1/accounts/{slug}/forms/": (form, "application/json"),
        "POST /api/v1/accounts/{slug}/forms/{id}/responses/": (answer, "application/json"),
        "PUT /api/v1/accounts/{slug}/forms/{id}/questions/": ({"questions": QUESTIONS}, "application/json"),
    }


def test_generated_requests_get_answers_the_schema_describes(api_schema, tenant_a, sent_notice, time_machine):
    time_machine.move_to("2026-12-03 10:00:00+07:00", tick=True)
    auth = {"Authorization": f"Token {tenant_a.token}"}
    slug = {"slug": tenant_a.account.slug}
    bodies = valid_bodies(timezone.now())
    approved_template(tenant_a, key="vaccination")
    failures, statuses = [], {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 16  # chat, notices, the notice's actions, CAP import and export, forms
    for operation in operations:
        # path parameters as generated (mostly no such account or notice), then the real account and notices
        scenarios = [(mode, {}, {}) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        if "{id}" in operation.path and "/forms/" in operation.path:
            ids = [make_form(tenant_a.account).pk]
            scenarios += [(mode, slug | {"id": pk}, {}) for mode in GenerationMode for pk in ids]
        elif "{id}" in operation.path:
            ids = notifications(tenant_a) if "/notifications/" in operation.path else [*notices(tenant_a), sent_notice]
            scenarios += [(mode, slug | {"id": pk}, {}) for mode in GenerationMode for pk in ids]
        elif "{key}" in operation.path:
            scenarios += [(mode, slug | {"key": pending_template(tenant_a)}, {}) for mode in GenerationMode]
        else:
            scenarios += [(mode, slug, {}) for mode in GenerationMode]
        if operation.label in bodies:
            body, media_type = bodies[operation.label]
            path_parameters = slug | ({"id": make_form(tenant_a.account).pk} if "{id}" in operation.path else {})
            scenarios.append((GenerationMode.POSITIVE, path_parameters, {"body": body, "media_type": media_type}))
        for mode, path_parameters, fixed in scenarios:

            @BOUNDED
            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters, **fixed))
            def call(case):
                response = case.call_and_validate(headers=auth, checks=CHECKS)
                statuses.setdefault(case.operation.label, set()).add(response.status_code)

            try:
                call()
            except BaseException as exc:  # noqa: BLE001  (schemathesis raises a BaseExceptionGroup)
                failures.append(f"{operation.label} ({mode.value}, {path_parameters}, {list(fixed)}):\n{exc}")
    assert not failures, "\n\n".join(failures)
    # every operation was reached and answered with a success at least once: the run tested something
    assert set(statuses) == {operation.label for operation in operations}
    refused = {label for label, codes in statuses.items() if not codes & {200, 201}}
    assert not refused, refused
