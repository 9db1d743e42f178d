"""Regression tests for webhook inputs found by fuzzing with valid signatures: each once gave a 500 (or a 503
after the event was already stored). Bad input is a 4xx and stores nothing."""

from __future__ import annotations

import json
import time

import pytest

from oa_platform.channel_types import generic
from oa_platform.models import Citizen, Follow, Message, WebhookEvent
from tests.webhooks.conftest import GENERIC_SECRET, post_zalo, zalo_mac

pytestmark = pytest.mark.django_db


def counts():
    return WebhookEvent.objects.count(), Citizen.objects.count(), Message.objects.count(), Follow.objects.count()


def post_generic(client, body: bytes):
    timestamp = str(int(time.time()))
    headers = generic.signed_headers(secret=GENERIC_SECRET, timestamp=timestamp, body=body)
    headers.pop("Content-Type")
    return client.post("/webhooks/generic/agency-a/", data=body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        b'{"citizen_id": "\\ud800", "text": "hi"}',
        b'{"citizen_id": "c1", "text": "\\ud800"}',
        b'{"citizen_id": "c1", "text": "hi", "id": "\\ud800"}',
        b'{"citizen_id": "c1", "text": "hi", "ts": "\\udc00"}',
        b'{"citizen_id": "c1", "text": "hi", "display_name": "\\ud800"}',
        b'{"event": "follow", "citizen_id": "c2", "text": "\\ud800"}',
        b'{"event": "follow", "citizen_id": "c2", "text": {"a": 1}}',
        b'{"event": "follow", "citizen_id": "c2", "text": ["x"]}',
    ],
)
def test_generic_signed_but_bad_event_is_400_and_stores_nothing(
    client, channels_a, body, django_capture_on_commit_callbacks
):
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_generic(client, body)
    assert response.status_code == 400, response.content
    assert "error" in response.json()
    assert counts() == before


def _zalo(payload: dict) -> tuple[bytes, str]:
    from tests.webhooks.conftest import ZALO_APP_ID

    payload = {"app_id": ZALO_APP_ID, "timestamp": str(int(time.time() * 1000)), **payload}
    return json.dumps(payload).encode(), payload["timestamp"]


@pytest.mark.parametrize(
    "payload",
    [
        {"event_name": "user_send_text", "sender": {"id": "\ud800"}, "message": {"text": "hi"}},
        {"event_name": "user_send_text", "sender": {"id": "u1"}, "message": {"text": "hi", "msg_id": "\ud800"}},
        {"event_name": "user_send_text", "sender": {"id": "u1"}, "message": {"text": "\udfff"}},
        {"event_name": "follow", "follower": {"id": "\ud800"}},
    ],
)
def test_zalo_signed_but_bad_event_is_400_and_stores_nothing(
    client, channels_a, payload, django_capture_on_commit_callbacks
):
    body, timestamp = _zalo(payload)
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_zalo(client, "agency-a", body, zalo_mac(body, timestamp))
    assert response.status_code == 400, response.content
    assert counts() == before


def test_generic_follow_without_text_still_works(client, channels_a, django_capture_on_commit_callbacks):
    """The stricter text check must not refuse events that carry no text at all."""
    with django_capture_on_commit_callbacks(execute=True):
        response = post_generic(client, b'{"event": "follow", "citizen_id": "c7"}')
    assert response.status_code == 200, response.content
    assert Follow.objects.get(citizen__external_id="c7").is_active


DEEP = b"[" * 30_000 + b"]" * 30_000  # under the 64 KiB body limit, far over the recursion limit


def test_generic_deeply_nested_json_is_400(client, channels_a):
    before = counts()
    response = post_generic(client, DEEP)
    assert response.status_code == 400
    assert counts() == before


def test_zalo_deeply_nested_json_is_400(client, channels_a):
    before = counts()
    response = post_zalo(client, "agency-a", DEEP, "mac=00")
    assert response.status_code == 400
    assert counts() == before


# PostgreSQL text and jsonb refuse NUL; the event used to be refused by the database (a 500) on PostgreSQL.
@pytest.mark.parametrize(
    "body",
    [
        b'{"citizen_id": "c1\\u0000x", "text": "hi"}',
        b'{"citizen_id": "c1", "text": "hi", "display_name": "a\\u0000"}',
        b'{"citizen_id": "c1", "text": "hi", "extra": {"k\\u0000": 1}}',
    ],
)
def test_generic_nul_anywhere_is_400_and_stores_nothing(client, channels_a, body, django_capture_on_commit_callbacks):
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_generic(client, body)
    assert response.status_code == 400, response.content
    assert counts() == before


def test_zalo_nul_in_text_is_400(client, channels_a, django_capture_on_commit_callbacks):
    body, timestamp = _zalo({"event_name": "user_send_text", "sender": {"id": "u1"}, "message": {"text": "a\x00b"}})
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_zalo(client, "agency-a", body, zalo_mac(body, timestamp))
    assert response.status_code == 400
    assert counts() == before


def test_wechat_overlong_msg_id_is_400_and_stores_nothing(client, channels_a):
    """The MsgId becomes the message's external id (128 chars): on PostgreSQL a longer one was a 500."""
    from tests.webhooks.test_wechat import _params, _post, _text_xml

    before = counts()
    response = _post(client, _text_xml("xin chào", msg_id="9" * 500), _params())
    assert response.status_code == 400
    assert counts() == before
    assert _post(client, _text_xml("xin chào", msg_id="9" * 20), _params()).status_code == 200


@pytest.mark.parametrize("send", ["zalo", "generic"])
def test_a_body_over_the_request_limit_is_a_json_413(client, channels_a, settings, send):
    # Over DATA_UPLOAD_MAX_MEMORY_SIZE Django refuses the body before the webhook's own 64 KiB check reads it.
    body = b'{"text": "' + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    if send == "zalo":
        ts = str(int(time.time() * 1000))
        response = post_zalo(client, "agency-a", body, zalo_mac(body, ts))
    else:
        response = post_generic(client, body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert counts() == (0, 0, 0, 0)
