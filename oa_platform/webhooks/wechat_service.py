"""WeChat inbound messages: stored once and answered inline, because WeChat wants the reply in the
response (passive reply, within 5 s). chat_receive is fast (in-memory matcher), so it runs in the request."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from oa_platform.chat import chat_receive
from oa_platform.conversations.text import clean_text
from oa_platform.models import Citizen, Message, OfficialAccount, WebhookEvent
from oa_platform.services import citizen_get_or_create, follow_create, follow_remove
from oa_platform.webhooks.intake import event_store
from oa_platform.webhooks.wechat import WeChatMessage


def welcome_text(account: OfficialAccount) -> str:
    with override("zh-hans" if account.default_language.startswith("zh") else account.default_language):
        return account.welcome_message or _("Cảm ơn bạn đã theo dõi %(name)s. Hãy gửi câu hỏi của bạn.") % {
            "name": account.name
        }


def wechat_message_receive(*, account: OfficialAccount, message: WeChatMessage) -> str | None:
    """Store the event once and return the text of the passive reply (None: answer "success").

    A redelivered message (WeChat retries after 5 s without an answer) returns the same reply again and
    stores nothing new.
    """
    if not message.handled:
        return None
    if message.kind == "text":
        clean_text(message.text)
    with transaction.atomic():
        event, created = event_store(
            account=account,
            channel=Citizen.CHANNEL_WECHAT,
            dedup_key=message.dedup_key,
            event_type=message.kind,
            payload={"kind": message.kind, "openid": message.openid},
        )
        citizen, _created = citizen_get_or_create(
            account=account,
            channel=Citizen.CHANNEL_WECHAT,
            external_id=message.openid,
            default_language=account.default_language,
        )
        reply_text = None
        if message.kind == "subscribe":
            if created:
                follow_create(account=account, citizen=citizen, channel=Citizen.CHANNEL_WECHAT)
            reply_text = welcome_text(account)
        elif message.kind == "unsubscribe":
            if created:
                follow_remove(account=account, citizen=citizen, channel=Citizen.CHANNEL_WECHAT)
        else:
            outcome = chat_receive(
                account=account,
                citizen=citizen,
                text=message.text,
                channel=Citizen.CHANNEL_WECHAT,
                external_id=message.dedup_key,
            )
            if outcome.reply is not None:
                reply_text = outcome.reply.text
                # The reply leaves in this response; it is not sent again through the customer-service API.
                Message.objects.filter(pk=outcome.reply.pk, delivery_status=Message.DELIVERY_QUEUED).update(
                    delivery_status=Message.DELIVERY_SENT, delivery_attempts=1
                )
        if created:
            WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now())
    return reply_text
