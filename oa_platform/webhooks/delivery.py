"""Services for the webhook channels: process a stored inbound event, deliver one outbound message."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from oa_platform import live
from oa_platform.chat import chat_receive
from oa_platform.errors import DomainError
from oa_platform.models import ChannelConfig, Citizen, Message, WebhookEvent
from oa_platform.services import citizen_get_or_create, follow_create, follow_remove
from oa_platform.webhooks import senders, zalo

logger = logging.getLogger(__name__)

# Channels whose outbound messages go through a provider API (web chat is pushed over the socket instead).
SENT_BY_API = (Citizen.CHANNEL_ZALO, Citizen.CHANNEL_WECHAT, Citizen.CHANNEL_GENERIC)
# Wait before automatic attempt n+1, counted from the message's creation: 30 s, then 2, 10 and 30 min. After
# the last one the message stays queued with its error in the staff inbox, where staff retry it (or it is
# re-sent when the channel's token is renewed with set_channel).
SEND_RETRY_BACKOFF_S = (30, 120, 600, 1800)
# A queued message never attempted this long after creation lost its task (e.g. the broker was down).
ORPHAN_AFTER_S = 60
# Messages re-queued per beat tick: bounds the tick; the rest are due again on the next one.
RETRY_BATCH = 500


def outbound_enqueue(message: Message) -> None:
    """Queue a send after the current transaction commits (a rolled-back reply is never sent)."""
    if message.delivery_status != Message.DELIVERY_QUEUED:
        return
    from oa_platform.tasks import send_outbound_message

    message_id = message.pk
    transaction.on_commit(lambda: send_outbound_message.delay(message_id))


def _generic_fields(event: WebhookEvent) -> tuple[str, str, str, dict]:
    p = event.payload
    return p["kind"], p["citizen_id"], p.get("text", ""), p.get("profile", {})


def _zalo_fields(event: WebhookEvent) -> tuple[str, str, str, dict]:
    parsed = zalo.parse_event(event.payload)
    kind = {zalo.EVENT_TEXT: "message"}.get(parsed.kind, parsed.kind)
    return kind, parsed.user_id, parsed.text, {}


def _without_text(channel: str, payload: dict) -> dict:
    payload = dict(payload)
    if channel == Citizen.CHANNEL_ZALO and isinstance(payload.get("message"), dict):
        payload["message"] = {k: v for k, v in payload["message"].items() if k != "text"}
    payload.pop("text", None)
    return payload


def webhook_event_process(*, event_id: int) -> dict:
    """Act on a stored Zalo or generic event: follow, unfollow, or chat (bot reply queued for sending).

    Running twice does no harm: chat_receive is idempotent on the event's dedup key and the send is
    guarded by the message's delivery status.
    """
    event = WebhookEvent.objects.select_related("account").filter(pk=event_id).first()
    if event is None:
        return {"status": "missing"}
    if event.processed_at is not None:
        return {"status": "done", "skipped": True}
    fields = {Citizen.CHANNEL_ZALO: _zalo_fields, Citizen.CHANNEL_GENERIC: _generic_fields}.get(event.channel)
    if fields is None:
        return {"status": "unsupported"}
    account = event.account
    try:
        kind, external_id, text, profile = fields(event)
        with transaction.atomic():
            citizen, _created = citizen_get_or_create(
                account=account,
                channel=event.channel,
                external_id=external_id,
                default_language=account.default_language,
                **profile,
            )
            result = {"status": "done", "kind": kind}
            if kind == "follow":
                follow_create(account=account, citizen=citizen, channel=event.channel)
            elif kind == "unfollow":
                follow_remove(account=account, citizen=citizen, channel=event.channel)
            elif kind == "message":
                outcome = chat_receive(
                    account=account,
                    citizen=citizen,
                    text=text,
                    channel=event.channel,
                    external_id=event.dedup_key,
                    language=profile.get("language"),  # the language sent with this message wins
                )
                result["duplicate"] = outcome.duplicate
                if outcome.reply is not None:
                    outbound_enqueue(outcome.reply)
                    result["reply_id"] = outcome.reply.pk
            # The chat text now lives in the conversation (where erasure finds it); keep only ids in the event.
            WebhookEvent.objects.filter(pk=event.pk).update(
                processed_at=timezone.now(), payload=_without_text(event.channel, event.payload)
            )
    except DomainError as exc:
        # The intake validated the event; this only happens if rules changed since. Keep it, do not retry.
        logger.warning("webhook event %s refused: %s", event.pk, exc.code)
        WebhookEvent.objects.filter(pk=event.pk).update(
            processed_at=timezone.now(), payload=_without_text(event.channel, event.payload)
        )
        return {"status": "refused", "code": exc.code}
    return result


def message_deliver(*, message_id: int) -> dict:
    """Send one queued outbound message through its channel's API and record the outcome on the message.

    The row is locked while sending (skip_locked: a concurrent attempt on the same message returns
    "busy" instead of sending twice). A provider failure worth retrying leaves it queued with the error.
    """
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("conversation__citizen", "conversation__account")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return {"status": "busy"}
        if message.delivery_status != Message.DELIVERY_QUEUED:
            return {"status": message.delivery_status or "none", "skipped": True}
        citizen = message.conversation.citizen
        config = ChannelConfig.objects.filter(account=message.conversation.account, kind=citizen.channel).first()
        result = senders.send_text(
            config=config, citizen=citizen, text=message.text, message_id=message.pk, sender=message.sender
        )
        message.delivery_attempts += 1
        message.delivery_error = result.error[:300]
        message.delivery_status = {
            senders.RESULT_SENT: Message.DELIVERY_SENT,
            senders.RESULT_RETRY: Message.DELIVERY_QUEUED,
            senders.RESULT_FAILED: Message.DELIVERY_FAILED,
        }[result.status]
        message.save(update_fields=["delivery_attempts", "delivery_error", "delivery_status"])
        conversation_id = message.conversation_id
        transaction.on_commit(lambda: live.conversation_changed(conversation_id=conversation_id))
    if result.status != senders.RESULT_SENT:
        logger.info("message %s not sent (%s): %s", message.pk, message.delivery_status, result.error)
    return {"status": message.delivery_status, "attempts": message.delivery_attempts}


def outbound_due_ids(*, now: dt.datetime | None = None) -> list[int]:
    """Queued outbound messages due for an automatic attempt, oldest first (at most RETRY_BATCH)."""
    now = now or timezone.now()
    due = Q(delivery_attempts=0, created_at__lte=now - dt.timedelta(seconds=ORPHAN_AFTER_S))
    waited = 0
    for attempts, backoff in enumerate(SEND_RETRY_BACKOFF_S, start=1):
        waited += backoff
        due |= Q(delivery_attempts=attempts, created_at__lte=now - dt.timedelta(seconds=waited))
    rows = Message.objects.filter(
        direction=Message.DIRECTION_OUT, delivery_status=Message.DELIVERY_QUEUED, channel__in=SENT_BY_API
    ).filter(due)
    return list(rows.order_by("created_at", "id").values_list("pk", flat=True)[:RETRY_BATCH])
