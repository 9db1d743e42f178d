"""The outbox: outbound messages to citizens on a provider channel (Zalo, WeChat, generic webhook), queued
after commit, sent by a task through their channel type (oa_platform.channel_types), retried with back-off by a
beat job. Chat replies, staff replies and hand-off messages all leave here.

The send task is defined here, next to what it runs, because the chat engine and the hand-off enqueue it:
this module imports none of them, so nothing circles back (``oa_platform.tasks`` re-exports it for the
worker). Its name is explicit and stays the one it had in ``oa_platform.tasks``, so messages already queued
keep routing.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from oa_platform import channel_types, live
from oa_platform.channel_types import Message as Outbound
from oa_platform.channel_types import Recipient
from oa_platform.models import Citizen, Message

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


@shared_task(name="oa_platform.tasks.send_outbound_message", acks_late=True)
def send_outbound_message(message_id: int) -> dict:
    return message_deliver(message_id=message_id)


def outbound_enqueue(message: Message) -> None:
    """Queue a send after the current transaction commits (a rolled-back reply is never sent)."""
    if message.delivery_status != Message.DELIVERY_QUEUED:
        return
    message_id = message.pk
    transaction.on_commit(lambda: send_outbound_message.delay(message_id))


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
        result = _send(message)
        message.delivery_attempts += 1
        message.delivery_error = result.error[:300]
        message.delivery_status = {
            channel_types.SENT: Message.DELIVERY_SENT,
            channel_types.RETRY: Message.DELIVERY_QUEUED,
            channel_types.FAILED: Message.DELIVERY_FAILED,
            channel_types.UNREACHABLE: Message.DELIVERY_FAILED,
        }[result.status]
        message.save(update_fields=["delivery_attempts", "delivery_error", "delivery_status"])
        conversation_id = message.conversation_id
        transaction.on_commit(lambda: live.conversation_changed(conversation_id=conversation_id))
    if not result.sent:
        logger.info("message %s not sent (%s): %s", message.pk, message.delivery_status, result.error)
    return {"status": message.delivery_status, "attempts": message.delivery_attempts}


def _send(message: Message) -> channel_types.SendResult:
    """One attempt through the citizen's channel type (the outbox's own back-off retries). A channel not (yet)
    configured leaves the message queued: set_channel queues it again once it is."""
    citizen = message.conversation.citizen
    config = channel_types.config_for(message.conversation.account, citizen.channel)
    if config is None:
        return channel_types.SendResult(channel_types.RETRY, f"{citizen.channel} channel not configured", attempts=0)
    return channel_types.send(
        citizen.channel,
        message.conversation.account,
        Recipient(external_id=citizen.external_id, phone=citizen.phone, language=citizen.language),
        Outbound(text=message.text, reference=message.pk, sender=message.sender),
        config=config,
        once=True,
    )


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
