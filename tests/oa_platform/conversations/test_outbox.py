"""Provider send failures leave the message queued with its error (visible to staff), never lost."""

import pytest
from django.core.management import call_command

from oa_platform.models import Message
from oa_platform.tasks import send_outbound_message
from tests.webhooks.conftest import post_zalo, zalo_event, zalo_mac

pytestmark = pytest.mark.django_db


def _zalo_reply(client, django_capture_on_commit_callbacks, text="xin chào", msg_id="m-1"):
    body, ts = zalo_event(text, msg_id=msg_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_zalo(client, "agency-a", body, zalo_mac(body, ts)).status_code == 200
    return Message.objects.get(direction="out", in_reply_to__external_id=f"m:{msg_id}")


@pytest.mark.parametrize(
    ("fault", "error"),
    [("500", "HTTP 500"), ("503", "HTTP 503"), ("timeout", "timeout"), ("expired", "Zalo -216")],
)
def test_a_failed_send_stays_queued_with_its_error_and_a_later_attempt_sends_it(
    client, channels_a, fake_api, short_send_timeout, django_capture_on_commit_callbacks, fault, error
):
    # given the provider fails once
    fake_api.fail_next(1, fault)
    reply = _zalo_reply(client, django_capture_on_commit_callbacks)
    # then the reply is queued with the reason
    assert reply.delivery_status == Message.DELIVERY_QUEUED
    assert reply.delivery_attempts == 1
    assert error in reply.delivery_error
    assert fake_api.sent == []
    # when the next attempt runs
    with django_capture_on_commit_callbacks(execute=True):
        result = send_outbound_message.delay(reply.pk).get()
    # then it is sent, once
    reply.refresh_from_db()
    assert result["status"] == "sent"
    assert (reply.delivery_status, reply.delivery_attempts, reply.delivery_error) == ("sent", 2, "")
    assert [s["text"] for s in fake_api.sent] == [reply.text]
    # and a stray extra attempt sends nothing more
    send_outbound_message.delay(reply.pk).get()
    assert len(fake_api.sent) == 1


def test_renewing_an_expired_token_with_set_channel_sends_queued_replies(
    client, channels_a, fake_api, django_capture_on_commit_callbacks
):
    channels_a["zalo"].access_token = "old-expired"
    channels_a["zalo"].save()
    reply = _zalo_reply(client, django_capture_on_commit_callbacks)
    assert reply.delivery_status == "queued" and "-216" in reply.delivery_error
    with django_capture_on_commit_callbacks(execute=True):
        call_command("set_channel", "agency-a", "zalo", "--access-token", "zalo-token")
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    assert len(fake_api.sent) == 1


def test_a_final_refusal_is_marked_failed(client, channels_a, fake_api, django_capture_on_commit_callbacks):
    # a 4xx from the provider (here: a wrong API base) will not get better by retrying
    channels_a["zalo"].api_base = fake_api.url + "/wrong"
    channels_a["zalo"].save()
    reply = _zalo_reply(client, django_capture_on_commit_callbacks)
    assert reply.delivery_status == Message.DELIVERY_FAILED
    assert reply.delivery_error == "HTTP 404: endpoint not found"


def test_set_channel_creates_and_updates_channels(tenant_a):
    from io import StringIO

    from oa_platform.models import ChannelConfig

    out = StringIO()
    call_command(
        "set_channel", "agency-a", "wechat", "--token", "t", "--app-id", "wx1",
        "--aes-key", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "--api-base", "http://127.0.0.1:9", stdout=out,
    )  # fmt: skip
    config = ChannelConfig.objects.get(account=tenant_a.account, kind="wechat")
    assert (config.token, config.app_id, config.api_base) == ("t", "wx1", "http://127.0.0.1:9")
    assert "hidden" in out.getvalue() and "jWmYm" not in out.getvalue()
    call_command("set_channel", "agency-a", "generic", "--secret", "s", "--callback-url", "https://example.org/cb")
    assert ChannelConfig.objects.get(account=tenant_a.account, kind="generic").callback_url == "https://example.org/cb"
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("set_channel", "agency-a", "wechat", "--aes-key", "short")
    with pytest.raises(CommandError):
        call_command("set_channel", "missing", "zalo", "--secret", "x")


def test_the_retry_beat_resends_after_the_back_off_and_gives_up_to_staff_after_the_last(
    client, channels_a, fake_api, django_capture_on_commit_callbacks
):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from oa_platform.conversations.outbox import SEND_RETRY_BACKOFF_S, outbound_due_ids
    from oa_platform.tasks import outbound_retry_due

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fake_api.fail_next(5, "503")
        reply = _zalo_reply(client, django_capture_on_commit_callbacks)  # attempt 1 fails
    assert reply.delivery_attempts == 1
    waited = 0
    for attempt, backoff in enumerate(SEND_RETRY_BACKOFF_S, start=2):
        waited += backoff
        with time_machine.travel(start + dt.timedelta(seconds=waited - 1), tick=False):
            assert outbound_due_ids() == []  # not yet
        with time_machine.travel(start + dt.timedelta(seconds=waited + 1), tick=False):
            with django_capture_on_commit_callbacks(execute=True):
                assert outbound_retry_due.delay().get() == {"queued": 1}
        reply.refresh_from_db()
        assert (reply.delivery_status, reply.delivery_attempts) == ("queued", attempt)
    # after the last automatic attempt it waits for staff (visible in the inbox), however long
    with time_machine.travel(start + dt.timedelta(days=30), tick=False):
        assert outbound_due_ids() == []
    assert fake_api.sent == []


def test_the_retry_beat_picks_up_a_message_whose_task_was_lost(tenant_a, channels_a, fake_api):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from oa_platform.conversations.engine import chat_receive
    from oa_platform.tasks import outbound_retry_due
    from tests.factories import make_citizen

    citizen = make_citizen("u-lost", channel="zalo", account=tenant_a.account)
    # a reply stored, but its send never enqueued (no on-commit callbacks run here: as if the broker was down)
    reply = chat_receive(account=tenant_a.account, citizen=citizen, text="xin chào").reply
    assert reply.delivery_status == "queued" and reply.delivery_attempts == 0
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61), tick=False):
        assert outbound_retry_due.delay().get() == {"queued": 1}
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    assert len(fake_api.sent) == 1


def test_retry_beat_ticks_do_not_overlap(tenant_a):
    from django.core.cache import cache

    from oa_platform.tasks import _RETRY_LOCK, outbound_retry_due

    cache.add(_RETRY_LOCK, 1, timeout=60)
    assert outbound_retry_due.delay().get() == {"skipped": "locked"}
