import json
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from broadcasts.personal.models import Notification, TemplateVersion
from oa_platform.channel_types import generic, signing
from oa_platform.models import ApiToken
from tests import factories
from tests.fakes.fake_provider import FakeProvider
from tests.personal.conftest import BODY, VALUES, approved_template, provider, web_person

pytestmark = pytest.mark.django_db

WRITE = ApiToken.SCOPE_NOTIFICATIONS_WRITE
APPROVE = ApiToken.SCOPE_NOTIFICATIONS_APPROVE


@pytest.fixture
def call(api_client):
    def call(method, url, token, body=None):
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return getattr(api_client, method)(url, body, format="json")

    return call


def test_templates_are_created_and_approved_by_another_token(call, tenant_a):
    base = f"/api/v1/accounts/{tenant_a.account.slug}/templates/"
    writer = factories.make_token(tenant_a.account, scopes=[WRITE, APPROVE], name="writer")
    approver = factories.make_token(tenant_a.account, scopes=[APPROVE], name="approver")
    body = {"key": "card-ready", "name": "Card", "body_vi": "Căn cước của ((name)) đã có", "body_en": "((name))"}
    created = call("post", base, writer, body)
    assert created.status_code == 201
    assert created.json()["template"] | {} == {
        "key": "card-ready",
        "name": "Card",
        "category": "",
        "version": 1,
        "status": "pending_approval",
        "placeholders": ["name"],
        "sms": {"encoding": "UCS-2", "units": 27, "segments": 1},
    }
    assert call("post", f"{base}card-ready/approve/", writer).status_code == 403  # its own
    assert call("post", f"{base}card-ready/approve/", approver, {}).json()["template"]["status"] == "approved"
    assert call("post", f"{base}card-ready/approve/", approver).status_code == 409  # nothing waiting
    assert call("post", f"{base}nope/approve/", approver).status_code == 404
    # an edit is a new version that needs approval again
    edited = call("post", base, writer, body | {"body_vi": "Mời ((name)) nhận căn cước"})
    assert edited.status_code == 201 and edited.json()["template"]["version"] == 2
    assert TemplateVersion.objects.filter(status="pending_approval").count() == 1
    # scopes
    assert call("post", base, approver, body).status_code == 403
    assert call("post", base, writer, body | {"link": "javascript:alert(1)"}).status_code == 400


def test_a_notification_its_reference_and_its_history(call, tenant_a, django_capture_on_commit_callbacks):
    approved_template(tenant_a)
    web_person(tenant_a.account)
    url = f"/api/v1/accounts/{tenant_a.account.slug}/notifications/"
    body = {"template": "vaccination", "phone": "0912345678", "personalisation": VALUES, "reference": "apt-1"}
    with django_capture_on_commit_callbacks(execute=True):
        first = call("post", url, tenant_a.token, body)
    assert first.status_code == 201
    out = first.json()["notification"]
    assert (out["status"], out["reference"], out["template"], out["version"]) == ("queued", "apt-1", "vaccination", 1)
    assert out["body"] == "Chào An, lịch tiêm của ông/bà: 05/12 08:00 tại Trạm y tế phường 1."
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = call("post", url, tenant_a.token, body)
    assert again.status_code == 200 and again.json()["notification"]["id"] == out["id"] and not callbacks
    changed = call("post", url, tenant_a.token, body | {"personalisation": VALUES | {"date": "06/12"}})
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "reference_reused"
    detail = call("get", f"{url}{out['id']}/", tenant_a.token).json()["notification"]
    assert detail["status"] == "sent" and detail["channel"] == "inapp"
    assert [(h["status"], h["channel"]) for h in detail["history"]] == [
        ("queued", ""),
        ("sending", "inapp"),
        ("sent", "inapp"),
    ]
    assert Notification.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"template": "unknown"}, 404),
        ({"personalisation": {"name": "An"}}, 400),
        ({"personalisation": VALUES | {"place": "x" * 10_000}}, 400),
        ({"personalisation": VALUES | {"place": {"a": 1}}}, 400),
        ({"phone": "+14155550100"}, 400),
        ({"phone": "not a phone"}, 400),
        ({"phone": "", "citizen_id": "nobody"}, 404),
        ({"scheduled_for": "tomorrow"}, 400),
    ],
)
def test_bad_notifications_are_refused_and_nothing_is_stored(call, tenant_a, change, code):
    approved_template(tenant_a)
    url = f"/api/v1/accounts/{tenant_a.account.slug}/notifications/"
    body = {"template": "vaccination", "phone": "0912345678", "personalisation": VALUES} | change
    answer = call("post", url, tenant_a.token, body)
    assert answer.status_code == code, answer.json()
    assert not Notification.objects.exists()


def test_an_unapproved_template_is_a_conflict(call, tenant_a):
    url = f"/api/v1/accounts/{tenant_a.account.slug}/"
    call("post", f"{url}templates/", tenant_a.token, {"key": "k", "name": "n", "body_vi": BODY})
    answer = call("post", f"{url}notifications/", tenant_a.token, {"template": "k", "phone": "0912345678"})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "template_not_approved"


def test_another_agency_sees_nothing(call, tenant_a, tenant_b, django_capture_on_commit_callbacks):
    approved_template(tenant_b)
    url_b = f"/api/v1/accounts/{tenant_b.account.slug}/notifications/"
    with django_capture_on_commit_callbacks(execute=True):
        theirs = call(
            "post", url_b, tenant_b.token, {"template": "vaccination", "phone": "0912345678", "personalisation": VALUES}
        )
    pk = theirs.json()["notification"]["id"]
    url_a = f"/api/v1/accounts/{tenant_a.account.slug}/notifications/"
    assert call("get", f"{url_b}{pk}/", tenant_a.token).status_code == 403
    assert call("get", f"{url_a}{pk}/", tenant_a.token).status_code == 404
    # B's template key does not exist for A
    body = {"template": "vaccination", "phone": "0912345678", "personalisation": VALUES}
    assert call("post", url_a, tenant_a.token, body).status_code == 404
    assert (
        call(
            "post", f"/api/v1/accounts/{tenant_a.account.slug}/templates/vaccination/approve/", tenant_a.token
        ).status_code
        == 404
    )


def test_status_changes_are_posted_signed_to_the_tokens_callback(call, tenant_a, django_capture_on_commit_callbacks):
    approved_template(tenant_a)
    web_person(tenant_a.account)
    base = f"/api/v1/accounts/{tenant_a.account.slug}/notifications/"
    secret = "s" * 32
    with FakeProvider() as receiver:
        assert call("put", f"{base}callback/", tenant_a.token, {"url": "ftp://x", "secret": secret}).status_code == 400
        assert (
            call("put", f"{base}callback/", tenant_a.token, {"url": receiver.url, "secret": "short"}).status_code == 400
        )
        assert (
            call("put", f"{base}callback/", tenant_a.token, {"url": receiver.url, "secret": secret}).status_code == 200
        )
        with django_capture_on_commit_callbacks(execute=True):
            body = {"template": "vaccination", "phone": "0912345678", "personalisation": VALUES, "reference": "r9"}
            pk = call("post", base, tenant_a.token, body).json()["notification"]["id"]
        deadline = time.monotonic() + 5
        while len(receiver.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    posted = [json.loads(r["body"]) for r in receiver.requests]
    assert [(p["id"], p["reference"], p["status"]) for p in posted] == [
        (pk, "r9", "queued"),
        (pk, "r9", "sending"),
        (pk, "r9", "sent"),
    ]
    for request in receiver.requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        generic.verify(
            secret=secret, body=request["body"], timestamp=headers["x-oa-timestamp"], header=headers["x-oa-signature"]
        )
        assert "0912345678" not in request["body"].decode() and "An" not in json.loads(request["body"]).values()


def _signed(client, url, secret, payload):
    raw = json.dumps(payload).encode()
    headers = signing.signed_headers(secret=secret, timestamp=str(int(time.time())), body=raw)
    return client.post(
        url,
        raw,
        content_type="application/json",
        HTTP_X_OA_TIMESTAMP=headers[signing.TIMESTAMP_HEADER],
        HTTP_X_OA_SIGNATURE=headers[signing.SIGNATURE_HEADER],
    )


def test_provider_receipts_on_signed_webhooks(client, tenant_a, tenant_b, django_capture_on_commit_callbacks):
    approved_template(tenant_a)
    from broadcasts.personal import dispatch, services
    from broadcasts.services import Actor

    with FakeProvider() as sms:
        provider(tenant_a, "sms", sms.url, secret="receipt-secret-a")
        provider(tenant_b, "sms", sms.url, secret="receipt-secret-b")
        notification, _ = services.notification_create(
            account=tenant_a.account,
            actor=Actor(user=tenant_a.broadcaster),
            template_key="vaccination",
            phone="0912345678",
            personalisation=VALUES,
        )
        dispatch.notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    mid = notification.provider_message_id
    url = f"/webhooks/personal/{tenant_a.account.slug}/sms/"
    receipt = {"message_id": mid, "status": "delivered"}
    assert _signed(client, url, "wrong", receipt).status_code == 401
    assert (
        _signed(client, f"/webhooks/personal/{tenant_b.account.slug}/sms/", "receipt-secret-b", receipt).json()["known"]
        is False
    )
    assert (
        _signed(client, f"/webhooks/personal/{tenant_a.account.slug}/zns/", "receipt-secret-a", receipt).status_code
        == 404
    )
    assert _signed(client, url, "receipt-secret-a", {"message_id": mid, "status": "read"}).status_code == 400
    notification.refresh_from_db()
    assert notification.status == "sent"
    answer = _signed(client, url, "receipt-secret-a", receipt)
    assert answer.status_code == 200 and answer.json() == {"ok": True, "known": True}
    notification.refresh_from_db()
    assert notification.status == "delivered"


def _statements(queries) -> list[str]:
    """The SQL of a request without transaction control (the test's own transaction adds savepoints)."""
    control = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")
    return [q["sql"] for q in queries if not q["sql"].startswith(control)]


def test_one_notification_costs_five_queries_and_its_status_three(call, tenant_a, django_capture_on_commit_callbacks):
    # given: an approved template and a follower; the token (in the API's authentication) is looked up per request
    approved_template(tenant_a)
    web_person(tenant_a.account)
    url = f"/api/v1/accounts/{tenant_a.account.slug}/notifications/"
    body = {"template": "vaccination", "phone": "0912345678", "personalisation": VALUES, "reference": "q-1"}
    assert call("get", f"{url}1/", tenant_a.token).status_code == 404  # the token's last use is noted (once a while)
    # when: a new reference is posted
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as enqueued:
        answer = call("post", url, tenant_a.token, body)
    # then: the token, the approved version (one join), the account's phone policy, the notification, its first
    # status; the reference is not looked up first (its unique constraint refuses a repeat)
    assert answer.status_code == 201
    statements = _statements(queries)
    assert len(statements) == 5, "\n".join(statements)
    assert [s.split()[0] for s in statements] == ["SELECT", "SELECT", "SELECT", "INSERT", "INSERT"]
    assert enqueued  # the send task goes after commit
    # and the same reference again: refused by the constraint, then found
    with CaptureQueriesContext(connection) as queries:
        again = call("post", url, tenant_a.token, body)
    assert again.status_code == 200 and again.json()["notification"]["id"] == answer.json()["notification"]["id"]
    assert len(_statements(queries)) == 5  # the insert refused, then the first notification with its template
    assert Notification.objects.count() == 1
    # the status with its history: the token, the notification with its version and template, the history
    with CaptureQueriesContext(connection) as queries:
        detail = call("get", f"{url}{answer.json()['notification']['id']}/", tenant_a.token)
    assert detail.status_code == 200 and len(_statements(queries)) == 3


def test_the_api_benchmark_refuses_a_database_not_meant_for_it_and_writes_valid_scripts(settings):
    from broadcasts.personal.management.commands import bench_personal_api as bench  # a command, not a library

    notify = bench.LUA_NOTIFY % (4, bench.FOLLOWER_PHONE, bench.TEMPLATE, "congan-hcm", "tok")
    assert '"phone": "\' .. phone .. \'"' in notify and "counter % phone_only == 0" in notify
    detail = bench.LUA_DETAIL % (3, 9, "congan-hcm", "tok")
    assert "local low, high = 3, 9" in detail and '"/api/v1/accounts/congan-hcm/notifications/" ..' in detail
    settings.DATABASES = {**settings.DATABASES, "default": {**settings.DATABASES["default"], "NAME": "oa_live"}}
    with pytest.raises(CommandError, match="bench"):
        call_command("bench_personal_api")
