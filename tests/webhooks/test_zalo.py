import pytest
import time_machine

from oa_platform.channel_types import zalo
from oa_platform.models import Citizen, Follow, Message, WebhookEvent
from tests.webhooks.conftest import ZALO_APP_ID, ZALO_SECRET, post_zalo, zalo_event, zalo_mac

pytestmark = pytest.mark.django_db


def test_signature_known_answer():
    # Computed from Zalo's documented formula sha256(app_id + body + timestamp + secret) with coreutils'
    # sha256sum, independent of the code under test.
    body = (
        b'{"app_id":"360846524940903967","event_name":"user_send_text","timestamp":"1763771400000",'
        b'"sender":{"id":"246845883529197922"},"message":{"text":"hello","msg_id":"msg-1"}}'
    )
    mac = zalo.signature(app_id="360846524940903967", body=body, timestamp="1763771400000", secret="OA-secret-key-123")
    assert mac == "75be91770e78a69dbc4d6a0690d775e2e4241289febc0c5d2e353ab5f06f4f8e"


def test_text_event_is_answered_through_the_zalo_send_api(
    client, channels_a, fake_api, django_capture_on_commit_callbacks
):
    body, ts = zalo_event("xin chào")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = post_zalo(client, "agency-a", body, zalo_mac(body, ts))
    # then
    assert response.status_code == 200, response.content
    citizen = Citizen.objects.get(channel="zalo", external_id="u-100")
    messages = list(Message.objects.filter(conversation__citizen=citizen).order_by("id"))
    assert [m.direction for m in messages] == ["in", "out"]
    reply = messages[1]
    assert reply.delivery_status == Message.DELIVERY_SENT and reply.delivery_attempts == 1
    assert fake_api.sent == [{"channel": "zalo", "to": "u-100", "text": reply.text}]
    sent_request = fake_api.requests[0]
    assert sent_request["headers"]["access_token"] == "zalo-token"
    event = WebhookEvent.objects.get()
    assert event.processed_at is not None
    # the chat text is personal data: once in the conversation, the stored event keeps only ids
    assert "text" not in event.payload["message"] and event.payload["message"]["msg_id"] == "msg-1"


def test_redelivery_creates_no_second_message_and_no_second_reply(
    client, channels_a, fake_api, django_capture_on_commit_callbacks
):
    body, ts = zalo_event("xin chào", msg_id="same-id")
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_zalo(client, "agency-a", body, zalo_mac(body, ts))
        assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert Message.objects.filter(direction="in").count() == 1
    assert Message.objects.filter(direction="out").count() == 1
    assert len(fake_api.sent) == 1
    assert WebhookEvent.objects.count() == 1


def test_event_without_message_id_is_deduplicated_on_a_content_hash(
    client, channels_a, fake_api, django_capture_on_commit_callbacks
):
    body, ts = zalo_event("xin chào", msg_id=None)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_zalo(client, "agency-a", body, zalo_mac(body, ts)).status_code == 200
    assert Message.objects.filter(direction="in").count() == 1
    assert WebhookEvent.objects.get().dedup_key.startswith("h:")


def test_follow_and_unfollow(client, channels_a, django_capture_on_commit_callbacks):
    body, ts = zalo_event(event="follow", user_id="u-7")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_zalo(client, "agency-a", body, zalo_mac(body, ts)).status_code == 200
    follow = Follow.objects.get(citizen__external_id="u-7")
    assert follow.is_active and follow.topics.exists()
    body, ts = zalo_event(event="unfollow", user_id="u-7", timestamp_ms=int(ts) + 1000)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_zalo(client, "agency-a", body, zalo_mac(body, ts)).status_code == 200
    follow.refresh_from_db()
    assert not follow.is_active


def test_other_events_are_accepted_and_ignored(client, channels_a):
    body, ts = zalo_event(event="user_send_image")
    response = post_zalo(client, "agency-a", body, zalo_mac(body, ts))
    assert response.status_code == 200 and response.json()["ignored"] is True
    assert WebhookEvent.objects.count() == 0


def _assert_nothing_stored():
    assert WebhookEvent.objects.count() == 0
    assert Message.objects.count() == 0
    assert Citizen.objects.filter(channel="zalo").count() == 0


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda body, ts: (body, None), id="missing signature"),
        pytest.param(lambda body, ts: (body, "mac=" + "0" * 64), id="wrong signature"),
        pytest.param(lambda body, ts: (body, zalo_mac(body, ts, secret="other")), id="wrong secret"),
        pytest.param(lambda body, ts: (body, zalo_mac(body, ts, app_id="999")), id="wrong app id"),
        pytest.param(lambda body, ts: (body.replace(b"xin", b"XIN"), zalo_mac(body, ts)), id="body changed"),
    ],
)
def test_bad_signatures_get_401_and_store_nothing(client, channels_a, mangle):
    body, ts = zalo_event("xin chào")
    body, mac = mangle(body, ts)
    response = post_zalo(client, "agency-a", body, mac)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"
    _assert_nothing_stored()


def test_stale_timestamp_gets_401(client, channels_a):
    body, ts = zalo_event("xin chào", timestamp_ms=1_763_771_400_000)
    with time_machine.travel(1_763_771_400 + 301, tick=False):
        response = post_zalo(client, "agency-a", body, zalo_mac(body, ts))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "stale_timestamp"
    with time_machine.travel(1_763_771_400 + 299, tick=False):
        assert post_zalo(client, "agency-a", body, zalo_mac(body, ts)).status_code == 200


def test_a_non_numeric_timestamp_is_refused_even_when_signed(client, channels_a):
    body, _ts = zalo_event("xin chào", timestamp_ms=0)
    body = body.replace(b'"timestamp": "0"', b'"timestamp": "nan"')
    assert b'"nan"' in body
    assert post_zalo(client, "agency-a", body, zalo_mac(body, "nan")).status_code == 401
    _assert_nothing_stored()


def test_another_accounts_credentials_are_refused(client, channels_a, channels_b):
    # given an event signed with B's secret, posted to A's webhook
    body, ts = zalo_event("xin chào")
    mac_b = zalo_mac(body, ts, secret=channels_b["zalo"].secret)
    # then A refuses it, B accepts it
    assert post_zalo(client, "agency-a", body, mac_b).status_code == 401
    assert WebhookEvent.objects.count() == 0
    assert post_zalo(client, "agency-b", body, mac_b).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"{not json", 400), (b"[1, 2]", 400), (b"", 400), (b'{"x": "' + b"a" * 70_000 + b'"}', 413)],
    ids=["malformed", "not an object", "empty", "oversize"],
)
def test_malformed_bodies_get_4xx(client, channels_a, body, status):
    ts = str(int(__import__("time").time() * 1000))
    response = post_zalo(client, "agency-a", body, zalo_mac(body, ts))
    assert response.status_code == status
    assert "error" in response.json()
    _assert_nothing_stored()


def test_valid_signature_but_bad_event_gets_400(client, channels_a):
    body, ts = zalo_event("   ")
    response = post_zalo(client, "agency-a", body, zalo_mac(body, ts))
    assert response.status_code == 400
    _assert_nothing_stored()


def test_unknown_slug_and_unconfigured_channel_get_404(client, tenant_a):
    body, ts = zalo_event("xin chào")
    assert post_zalo(client, "nope", body, zalo_mac(body, ts)).status_code == 404
    assert post_zalo(client, "agency-a", body, zalo_mac(body, ts)).status_code == 404  # no Zalo channel configured
    assert client.get("/webhooks/zalo/agency-a/").status_code == 405
    _assert_nothing_stored()


def test_app_id_in_body_must_be_the_accounts(client, channels_a):
    body, ts = zalo_event("xin chào")
    body = body.replace(ZALO_APP_ID.encode(), b"123")
    assert post_zalo(client, "agency-a", body, zalo_mac(body, ts, secret=ZALO_SECRET)).status_code == 401
