"""Core Celery tasks: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task

# Back-off between automatic send attempts (seconds); after the last one the message stays queued with its
# error, visible to staff, who retry it from the inbox (or it is re-sent when the channel's token is renewed).
SEND_RETRY_BACKOFF = (30, 120, 600, 1800)


@shared_task(acks_late=True)
def process_webhook_event(event_id: int) -> dict:
    from oa_platform.webhooks.delivery import webhook_event_process

    return webhook_event_process(event_id=event_id)


@shared_task(bind=True, acks_late=True)
def send_outbound_message(self, message_id: int) -> dict:
    from oa_platform.webhooks.delivery import message_deliver

    result = message_deliver(message_id=message_id)
    attempts = result.get("attempts", 0)
    # In eager mode (no broker) a countdown cannot be honoured; the retry would run at once and hammer a
    # provider that just failed, so only a real worker schedules automatic retries.
    if result["status"] == "queued" and not self.request.is_eager and 0 < attempts <= len(SEND_RETRY_BACKOFF):
        send_outbound_message.apply_async((message_id,), countdown=SEND_RETRY_BACKOFF[attempts - 1])
        result["retry_in"] = SEND_RETRY_BACKOFF[attempts - 1]
    return result
