"""Inbound events: a verified, parsed event (channel_types) stored once, then acted on: follow, unfollow, or a
citizen's message handed to the chat engine, whose reply goes to the outbox.

Two entry points:
- ``event_store`` + the task ``process_webhook_event`` -> ``webhook_event_process``: Zalo and the generic
  channel (the webhook answers at once; the worker processes);
- ``event_receive_inline``: WeChat, which wants the reply in the webhook's response (passive reply, within
  5 s); chat_receive is fast (in-memory matcher), so it runs in the request.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from oa_platform.channel_types import InboundEvent, type_for
from oa_platform.conversations.engine import chat_receive
from oa_platform.conversations.outbox import outbound_enqueue
from oa_platform.errors import DomainError
from oa_platform.models import Message, OfficialAccount, WebhookEvent
from oa_platform.services import citizen_get_or_create, follow_create, follow_remove

logger = logging.getLogger(__name__)


def event_store(*, account: OfficialAccount, channel: str, dedup_key: str, event_type: str, payload: dict):
    """Store the event once. Returns (event, created); a retried delivery returns the stored row, created False.

    Safe under concurrent deliveries: the unique (account, channel, dedup_key) constraint decides the winner.
    """
    dedup_key = dedup_key[:128]
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                account=account, channel=channel, dedup_key=dedup_key, event_type=event_type[:60], payload=payload
            )
        return event, True
    except IntegrityError:
        event = WebhookEvent.objects.get(account=account, channel=channel, dedup_key=dedup_key)
        return event, False


def welcome_text(account: OfficialAccount) -> str:
    with override("zh-hans" if account.default_language.startswith("zh") else account.default_language):
        return account.welcome_message or _("Cảm ơn bạn đã theo dõi %(name)s. Hãy gửi câu hỏi của bạn.") % {
            "name": account.name
        }


def webhook_event_process(*, event_id: int) -> dict:
    """Act on a stored event: follow, unfollow, or chat (bot reply queued for sending).

    Running twice does no harm: chat_receive is idempotent on the event's dedup key and the send is
    guarded by the message's delivery status.
    """
    event = WebhookEvent.objects.select_related("account").filter(pk=event_id).first()
    if event is None:
        return {"status": "missing"}
    if event.processed_at is not None:
        return {"status": "done", "skipped": True}
    try:
        channel_type = type_for(event.channel)
    except LookupError:
        return {"status": "unsupported"}
    if not hasattr(channel_type, "parse_stored") or getattr(channel_type, "inline_reply", False):
        return {"status": "unsupported"}
    account = event.account
    try:
        parsed = channel_type.parse_stored(event.payload)
        with transaction.atomic():
            citizen, _created = citizen_get_or_create(
                account=account,
                channel=event.channel,
                external_id=parsed.external_id,
                default_language=account.default_language,
                **parsed.profile,
            )
            result = {"status": "done", "kind": parsed.kind}
            if parsed.kind == "follow":
                follow_create(account=account, citizen=citizen, channel=event.channel)
            elif parsed.kind == "unfollow":
                follow_remove(account=account, citizen=citizen, channel=event.channel)
            elif parsed.kind == "message":
                outcome = chat_receive(
                    account=account,
                    citizen=citizen,
                    text=parsed.text,
                    channel=event.channel,
                    external_id=event.dedup_key,
                    language=parsed.profile.get("language"),  # the language sent with this message wins
                )
                result["duplicate"] = outcome.duplicate
                if outcome.reply is not None:
                    outbound_enqueue(outcome.reply)
                    result["reply_id"] = outcome.reply.pk
            # The chat text now lives in the conversation (where erasure finds it); keep only ids in the event.
            WebhookEvent.objects.filter(pk=event.pk).update(
                processed_at=timezone.now(), payload=channel_type.without_text(event.payload)
            )
    except DomainError as exc:
        # The webhook validated the event; this only happens if rules changed since. Keep it, do not retry.
        logger.warning("webhook event %s refused: %s", event.pk, exc.code)
        WebhookEvent.objects.filter(pk=event.pk).update(
            processed_at=timezone.now(), payload=channel_type.without_text(event.payload)
        )
        return {"status": "refused", "code": exc.code}
    return result


def event_receive_inline(*, account: OfficialAccount, channel: str, event: InboundEvent) -> str | None:
    """Store the event once, act on it now and return the text of the reply to put in the response (None:
    nothing to say). A redelivered message (WeChat retries after 5 s without an answer) returns the same reply
    again and stores nothing new."""
    if not event.handled:
        return None
    with transaction.atomic():
        stored, created = event_store(
            account=account,
            channel=channel,
            dedup_key=event.dedup_key,
            event_type=event.stored_type,
            payload=event.payload,
        )
        citizen, _created = citizen_get_or_create(
            account=account, channel=channel, external_id=event.external_id, default_language=account.default_language
        )
        reply_text = None
        if event.kind == "follow":
            if created:
                follow_create(account=account, citizen=citizen, channel=channel)
            reply_text = welcome_text(account)
        elif event.kind == "unfollow":
            if created:
                follow_remove(account=account, citizen=citizen, channel=channel)
        else:
            outcome = chat_receive(
                account=account, citizen=citizen, text=event.text, channel=channel, external_id=event.dedup_key
            )
            if outcome.reply is not None:
                reply_text = outcome.reply.text
                # The reply leaves in this response; it is not sent again through the provider's API.
                Message.objects.filter(pk=outcome.reply.pk, delivery_status=Message.DELIVERY_QUEUED).update(
                    delivery_status=Message.DELIVERY_SENT, delivery_attempts=1
                )
        if created:
            WebhookEvent.objects.filter(pk=stored.pk).update(processed_at=timezone.now())
    return reply_text
