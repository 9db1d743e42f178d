import hashlib
import hmac
import json
import time

import pytest
import time_machine

from oa_platform.channel_types import generic
from oa_platform.models import Follow, Message, WebhookEvent
from tests.webhooks.conftest import GENERIC_SECRET

pytestmark = pytest.mark.django_db


def test_signature_known_answer():
    # HMAC-SHA256("generic-secret", "1763771400." + body), computed with `openssl dgst -sha256 -hmac`.
    body = b'{"citizen_id":"c1","text":"hi"}'
    assert (
        generic.signature(secret="generic-secret", timestamp="1763771400", body=body)
        == "0bf644405b5a50b83ca5b1771c84f72952befe4f4244b4006529b6fb0c1ec52c"
    )


def _post(client, payload, *, secret=GENERIC_SECRET, timestamp=None, slug="agency-a", raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = timestamp or str(int(time.time()))
    headers = generic.signed_headers(secret=secret, timestamp=timestamp, body=body)
    headers.pop("Content-Type")
    return client.post(f"/webhooks/generic/{slug}/", data=body, content_type="application/json", headers=headers)


def test_message_is_answered_with_a_signed_callback(client, channels_a, fake_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, {"id": "sms-1", "citizen_id": "+84901234567", "text": "xin chào", "language": "vi"})
    assert response.status_code == 200, response.content
    reply = Message.objects.get(direction="out")
    assert reply.delivery_status == Message.DELIVERY_SENT
    [sent] = fake_api.sent
    assert sent["text"] == reply.text and sent["to"] == "+84901234567"
    # the callback carries a valid signature the receiver can check with the shared secret
    record = sent["record"]
    expected = hmac.new(
        GENERIC_SECRET.encode(), record["headers"]["X-OA-Timestamp"].encode() + b"." + record["raw"], hashlib.sha256
    ).hexdigest()
    assert record["headers"]["X-OA-Signature"] == f"sha256={expected}"


def test_redelivery_is_a_no_op(client, channels_a, fake_api, django_capture_on_commit_callbacks):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert _post(client, {"id": "sms-2", "citizen_id": "c1", "text": "xin chào"}).status_code == 200
    assert Message.objects.count() == 2 and len(fake_api.sent) == 1


def test_follow_event(client, channels_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, {"event": "follow", "citizen_id": "c9"}).status_code == 200
    assert Follow.objects.get(citizen__external_id="c9", citizen__channel="generic").is_active


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"secret": "wrong"}, 401),
        ({"timestamp": "1763771400"}, 401),
        ({"raw": b"{oops"}, 400),
        ({"raw": b'{"citizen_id": 5, "text": "x"}'}, 400),
        ({"raw": b'{"event": "delete_everything", "citizen_id": "c"}'}, 400),
        ({"raw": b'{"citizen_id": "c", "text": ""}'}, 400),
        ({"raw": b'{"citizen_id": "c", "text": "hi", "phone": "12"}'}, 400),
        ({"slug": "nope"}, 404),
    ],
    ids=[
        "bad secret",
        "stale",
        "malformed json",
        "bad citizen",
        "unknown event",
        "empty text",
        "bad phone",
        "unknown slug",
    ],
)
def test_bad_input_gets_4xx_and_stores_nothing(client, channels_a, kwargs, status):
    response = _post(client, {"id": "x", "citizen_id": "c1", "text": "hi"}, **kwargs)
    assert response.status_code == status
    assert WebhookEvent.objects.count() == 0 and Message.objects.count() == 0


def test_another_accounts_secret_is_refused(client, channels_a, channels_b):
    payload = {"id": "x", "citizen_id": "c1", "text": "hi"}
    assert _post(client, payload, secret=channels_b["generic"].secret).status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_missing_headers_get_401(client, channels_a):
    response = client.post("/webhooks/generic/agency-a/", data=b'{"citizen_id":"c"}', content_type="application/json")
    assert response.status_code == 401


def test_future_timestamp_outside_the_window_is_refused(client, channels_a):
    with time_machine.travel(1_763_771_400, tick=False):
        response = _post(client, {"citizen_id": "c1", "text": "hi"}, timestamp=str(1_763_771_400 + 400))
    assert response.status_code == 401
