"""The bot answers on the provider channels in the citizen's language, else the account's (not Vietnamese
by default): a language sent with a generic-channel message wins, a new WeChat citizen of a Chinese account
gets Chinese."""

from __future__ import annotations

import pytest

from oa_platform.channel_types import InboundEvent
from oa_platform.conversations.inbound import event_receive_inline
from oa_platform.models import Citizen, Message
from tests import factories
from tests.webhooks.test_generic import _post

pytestmark = pytest.mark.django_db


def test_a_language_sent_with_a_generic_message_is_the_replys(
    client, tenant_a, channels_a, django_capture_on_commit_callbacks
):
    # given: a citizen the Vietnamese account knows as Vietnamese
    factories.make_citizen("c-lang", channel=Citizen.CHANNEL_GENERIC, account=tenant_a.account, language="vi")
    # when: their app says they now read English
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, {"id": "sms-9", "citizen_id": "c-lang", "text": "qwxz blorp", "language": "en"})
    # then
    assert response.status_code == 200, response.content
    assert Message.objects.get(direction="out").text.startswith("Sorry, I don't have an answer")


def test_a_new_wechat_citizen_of_a_chinese_account_gets_chinese():
    account = factories.make_account("gaj-test", default_language="zh-hans")
    event = InboundEvent(kind="message", external_id="o-1", text="你好", dedup_key="m-1", payload={"kind": "text"})
    reply = event_receive_inline(account=account, channel=Citizen.CHANNEL_WECHAT, event=event)
    assert reply.startswith("您好") and Citizen.objects.get(external_id="o-1").language == "zh-hans"
