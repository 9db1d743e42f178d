"""Sending a notice's chunk: the chunk task, claiming a chunk with a lease, sending its deliveries (in-app with
one UPDATE, external providers message by message), finishing the notice once no chunk is open.

Exactly-once effect (the claim and the chunks: broadcasts.fanout): each external delivery is marked "sending"
(committed) before it is posted, so a worker killed between the post and writing the result leaves a row the
next run does not post again blindly (see _process_external). Every external send carries the delivery's
idempotency key.

The task ``process_chunk`` is defined here, beside what it runs, because the dispatcher (broadcasts.fanout)
enqueues it: this module imports nothing of the dispatcher, so nothing circles back. Its name is explicit.
"""

from __future__ import annotations

import datetime as dt
import logging
import os

from celery import shared_task
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from broadcasts.models import Chunk, Delivery, Notice, idempotency_key
from broadcasts.selectors import notice_counts
from broadcasts.services import notice_expire
from oa_platform import channel_types
from oa_platform.channel_types import Message, Recipient, SendResult

logger = logging.getLogger(__name__)

# Messages sent between two re-checks of the notice's status (cancel/expiry stop a chunk within one batch).
SEND_BATCH = 10
# A running chunk whose lease ended belongs to a dead worker; the sweeper re-queues it.
LEASE_S = float(os.environ.get("BROADCASTS_LEASE_S", "60"))


# A lost database connection (restart, "too many clients") is retried with backoff instead of waiting for the
# sweeper; the chunk is handed back before the retry (see chunk_process).
@shared_task(
    name="broadcasts.process_chunk",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=8,
)
def process_chunk(chunk_id: int) -> dict:
    return chunk_process(chunk_id=chunk_id)


def chunks_enqueue(chunk_ids: list[int]) -> None:
    """One task per chunk (call after the chunks are committed)."""
    for chunk_id in chunk_ids:
        process_chunk.delay(chunk_id)


def notice_finish(*, notice_id: int) -> bool:
    """Mark a sending notice sent once none of its chunks is open. Idempotent; safe to call from anywhere."""
    if Chunk.objects.filter(notice_id=notice_id).exclude(status=Chunk.STATUS_DONE).exists():
        return False
    with transaction.atomic():
        notice = Notice.objects.select_for_update().filter(pk=notice_id, status=Notice.STATUS_SENDING).first()
        if notice is None or Chunk.objects.filter(notice_id=notice_id).exclude(status=Chunk.STATUS_DONE).exists():
            return False
        counts = notice_counts(notice_id)
        notice.status = Notice.STATUS_SENT
        notice.finished_at = timezone.now()
        notice.counts = {**(notice.counts or {}), "final": counts}
        notice.save(update_fields=["status", "finished_at", "counts", "updated_at"])
    return True


def _claim(chunk_id: int, now: dt.datetime) -> bool:
    return bool(
        Chunk.objects.filter(pk=chunk_id)
        .filter(
            Q(status=Chunk.STATUS_PENDING, not_before__isnull=True)
            | Q(status=Chunk.STATUS_PENDING, not_before__lte=now)
            | Q(status=Chunk.STATUS_RUNNING, lease_until__lt=now)
        )
        .update(
            status=Chunk.STATUS_RUNNING,
            lease_until=now + dt.timedelta(seconds=LEASE_S),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )


def _stop_reason(notice_id: int, now: dt.datetime) -> str | None:
    status, expires_at = Notice.objects.filter(pk=notice_id).values_list("status", "expires_at").get()
    if status != Notice.STATUS_SENDING:
        return status
    if expires_at is not None and expires_at <= now:
        return Notice.STATUS_EXPIRED
    return None


def _done(chunk: Chunk) -> None:
    Chunk.objects.filter(pk=chunk.pk).update(status=Chunk.STATUS_DONE, lease_until=None, updated_at=timezone.now())


def chunk_process(*, chunk_id: int) -> dict:
    """Send one chunk. Runs twice harmlessly: claimed with a lease, only queued deliveries are sent."""

    now = timezone.now()
    if not _claim(chunk_id, now):
        return {"chunk": chunk_id, "skipped": True}
    try:
        return _chunk_run(chunk_id, now)
    except Exception:
        # Hand the chunk back at once so a retry (or another worker) can take it; best effort.
        try:
            Chunk.objects.filter(pk=chunk_id, status=Chunk.STATUS_RUNNING).update(
                status=Chunk.STATUS_PENDING, lease_until=None, updated_at=timezone.now()
            )
        except Exception:  # noqa: BLE001 - the database itself may be what failed; the lease then expires
            logger.warning("could not release chunk %s", chunk_id)
        raise


def _chunk_run(chunk_id: int, now: dt.datetime) -> dict:
    chunk = Chunk.objects.select_related("notice", "notice__account").get(pk=chunk_id)
    stop = _stop_reason(chunk.notice_id, now)
    if stop == Notice.STATUS_EXPIRED:
        notice_expire(notice_id=chunk.notice_id)
    if stop:
        _done(chunk)
        return {"chunk": chunk_id, "stopped": stop}
    if chunk.channel == Delivery.CHANNEL_INAPP:
        with transaction.atomic():
            sent = inapp_send_range(notice_id=chunk.notice_id, first_id=chunk.first_id, last_id=chunk.last_id)
            _done(chunk)
        result = {"chunk": chunk_id, "sent": sent}
    else:
        result = _process_external(chunk)
    if result.get("done", True):
        notice_finish(notice_id=chunk.notice_id)
    return result


def inapp_send_range(*, notice_id: int, first_id: int, last_id: int) -> int:
    """Mark the queued in-app deliveries of an id range sent (the web channel type: the notice is in the inbox,
    open pages get it through ONE group send per notice, broadcasts.live.notice_push). Status-guarded: a
    re-run changes nothing."""
    return Delivery.objects.filter(
        notice_id=notice_id,
        id__gte=first_id,
        id__lte=last_id,
        channel=Delivery.CHANNEL_INAPP,
        status=Delivery.STATUS_QUEUED,
    ).update(status=Delivery.STATUS_SENT, sent_at=timezone.now(), attempts=F("attempts") + 1)


def _honours_key(channel_type, config) -> bool:
    """Whether the provider sends a message once per idempotency key (then a lost result may be posted again)."""
    return bool(channel_type.honours_idempotency_key or getattr(config, "honours_idempotency_key", False))


def delivery_message(notice: Notice, delivery: Delivery) -> tuple[Recipient, Message]:
    """A delivery as an ordinary outbound message: a notice is a bundle of these, sent through channel_types."""
    citizen = delivery.citizen
    title, body = notice.text_for(delivery.language)
    recipient = Recipient(external_id=citizen.external_id, phone=citizen.phone, language=delivery.language)
    message = Message(
        text=body,
        title=title,
        link=notice.link,
        idempotency_key=idempotency_key(notice.pk, citizen.pk),
        reference=notice.pk,
        notice={"kind": notice.kind, "severity": notice.severity},
    )
    return recipient, message


def _mark_sending(delivery: Delivery, statuses: tuple[str, ...]) -> bool:
    """Write "sending" on one delivery, committed (autocommit) before it is posted, so a worker killed after
    the post but before its result is written leaves a trace and the next run does not post it again blindly.
    False when another worker has taken it meanwhile."""
    return bool(Delivery.objects.filter(pk=delivery.pk, status__in=statuses).update(status=Delivery.STATUS_SENDING))


def _record(delivery: Delivery, result: SendResult, sent_at: dt.datetime) -> None:
    """The provider's answer for one delivery, written as soon as it arrives (one UPDATE)."""
    sent = result.sent
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.STATUS_SENT if sent else Delivery.STATUS_FAILED,
        attempts=F("attempts") + result.attempts,
        last_error=(result.error or "")[:300],
        provider_message_id=(result.provider_id or "")[:128],
        sent_at=sent_at if sent else None,
    )


def _process_external(chunk: Chunk) -> dict:
    """Send a provider chunk, re-checking the notice every SEND_BATCH messages. Each message is marked "sending"
    (committed) before its post and its result written right after, so a killed worker leaves at most one
    message per worker whose outcome is unknown. Rows found "sending" when a chunk starts are those: they are
    posted again (same key) only to a provider that deduplicates on the key, otherwise marked "unknown" and
    never re-sent (a citizen gets no SMS twice; staff see which ones to check with the provider).

    Two small writes per message: external providers take tens of messages per second, so the database is
    never what limits this loop."""
    notice = chunk.notice
    channel_type = channel_types.type_for(chunk.channel)
    config = channel_types.config_for(notice.account, chunk.channel)
    in_range = Delivery.objects.filter(
        notice_id=notice.pk, id__gte=chunk.first_id, id__lte=chunk.last_id, channel=chunk.channel
    )
    totals = {"sent": 0, "failed": 0}
    if _honours_key(channel_type, config):
        sendable: tuple[str, ...] = Delivery.OPEN_STATUSES
    else:
        sendable = (Delivery.STATUS_QUEUED,)
        totals["unknown"] = in_range.filter(status=Delivery.STATUS_SENDING).update(
            status=Delivery.STATUS_UNKNOWN, last_error=Delivery.UNKNOWN_ERROR
        )
        if totals["unknown"]:
            logger.warning(
                "chunk %s: %s deliveries left sending by a dead worker, now unknown", chunk.pk, totals["unknown"]
            )
    rows = list(in_range.filter(status__in=sendable).select_related("citizen").order_by("id"))
    for start in range(0, len(rows), SEND_BATCH):
        now = timezone.now()
        stop = _stop_reason(notice.pk, now)
        if stop:
            if stop == Notice.STATUS_EXPIRED:
                notice_expire(notice_id=notice.pk)
            _done(chunk)
            return {"chunk": chunk.pk, "stopped": stop, **totals}
        Chunk.objects.filter(pk=chunk.pk).update(lease_until=now + dt.timedelta(seconds=LEASE_S), updated_at=now)
        deferred = None
        for delivery in rows[start : start + SEND_BATCH]:
            if not _mark_sending(delivery, sendable):
                continue
            if config is None:
                result = SendResult(channel_types.FAILED, f"no {chunk.channel} provider configured", attempts=0)
            else:
                recipient, message = delivery_message(notice, delivery)
                result = channel_types.send(chunk.channel, notice.account, recipient, message, config=config)
            if result.status == channel_types.RETRY:
                # The provider did not take it (rate limit, 429, token): back to the queue, and the chunk waits.
                Delivery.objects.filter(pk=delivery.pk, status=Delivery.STATUS_SENDING).update(
                    status=Delivery.STATUS_QUEUED
                )
                deferred = result.retry_after or 1.0
                break
            _record(delivery, result, timezone.now())
            totals["sent" if result.sent else "failed"] += 1
        if deferred is not None:
            # The provider asked us to wait longer than a worker should sleep: hand the chunk back for later.
            Chunk.objects.filter(pk=chunk.pk).update(
                status=Chunk.STATUS_PENDING,
                lease_until=None,
                not_before=timezone.now() + dt.timedelta(seconds=deferred),
                updated_at=timezone.now(),
            )
            return {"chunk": chunk.pk, "deferred_s": deferred, "done": False, **totals}
    _done(chunk)
    return {"chunk": chunk.pk, **totals}
