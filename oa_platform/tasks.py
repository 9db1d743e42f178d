"""Core Celery tasks: thin wrappers that take ids and call one service.

Every task has an explicit ``name=``, its historical ``<module>.<function>`` name: messages already queued in a
running deployment keep routing when a task's code moves (tests/test_task_names.py)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from oa_platform.conversations.inbound import webhook_event_process

# send_outbound_message lives beside the outbox it runs (the chat engine enqueues it); imported here so the
# worker, which autodiscovers <app>.tasks, registers it.
from oa_platform.conversations.outbox import outbound_due_ids, send_outbound_message

__all__ = ["outbound_retry_due", "process_webhook_event", "send_outbound_message"]

# Periodic jobs must not overlap: a tick holds this cache lock (expires on its own if a worker dies).
_RETRY_LOCK = "lock:outbound-retry-due"
_RETRY_LOCK_S = 120


@shared_task(name="oa_platform.tasks.process_webhook_event", acks_late=True)
def process_webhook_event(event_id: int) -> dict:
    return webhook_event_process(event_id=event_id)


@shared_task(name="oa_platform.tasks.outbound_retry_due", acks_late=True)
def outbound_retry_due() -> dict:
    """Beat job: queue another attempt for every outbound message whose back-off has passed (and for any
    whose first enqueue was lost). Retry state lives in the Message rows, not in the broker."""
    if not cache.add(_RETRY_LOCK, 1, timeout=_RETRY_LOCK_S):
        return {"skipped": "locked"}
    try:
        ids = outbound_due_ids()
        for message_id in ids:
            send_outbound_message.delay(message_id)
    finally:
        cache.delete(_RETRY_LOCK)
    return {"queued": len(ids)}
