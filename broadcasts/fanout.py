"""Fan-out: audience SQL, materialising deliveries with one INSERT ... SELECT, chunks, the dispatcher tick
(claim, sweep, finish, expire). Sending a chunk: broadcasts.sending.

Exactly-once effect: the claim of a notice, its deliveries and its chunks are written in one transaction, so a
worker killed while materialising leaves the notice scheduled and nothing else. A chunk is taken with a lease;
a worker killed while sending leaves its chunk "running" until the lease ends, then the sweeper hands it to
another worker. Deliveries are only sent while queued; each is marked "sending" (committed) before it is
posted, so a worker killed between the post and writing the result leaves a row the next run does not post
again blindly (see _process_external). Every external send carries the delivery's idempotency key.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from contextlib import contextmanager

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from broadcasts.live import notice_push
from broadcasts.models import BroadcastSettings, Chunk, Delivery, Notice
from broadcasts.sending import chunks_enqueue, notice_finish
from broadcasts.services import notice_expire
from oa_platform.channel_types import configured_kinds
from oa_platform.models import Area, ChannelConfig, Citizen, Follow, Membership, Topic, TopicSubscription

logger = logging.getLogger(__name__)

# In-app chunks only flip statuses with one UPDATE (~20-40 ms for 5,000 rows on PostgreSQL); 5,000 keeps
# a 1,000,000-recipient notice at 200 tasks, so task overhead stays small while a cancel or a killed worker
# costs at most a few thousand rows of re-checking.
INAPP_CHUNK = 5000
# External providers are rate-limited (tens of messages/s): 100 messages is a few seconds of work, short
# enough that the lease is renewed often and a killed worker loses little, long enough to amortise a task.
PROVIDER_CHUNK = 100
# A pending chunk whose task did not start for this long (message lost or held by a killed worker's prefetch
# until the broker's visibility timeout) is enqueued again; a duplicate task finds the chunk claimed and stops.
PENDING_REQUEUE_S = float(os.environ.get("BROADCASTS_PENDING_REQUEUE_S", "120"))
# Notices claimed per dispatcher tick: each is its own transaction; the next tick (seconds later) takes more.
DISPATCH_BATCH = 5
ADVISORY_LOCK_KEY = 0x0B0ADCA5  # pg_try_advisory_lock key of the dispatcher


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# --- audience  ---
def channel_case(account_id: int) -> tuple[str, list]:
    """SQL CASE choosing each citizen's delivery channel (``c`` is the citizen table)."""
    parts, params = [], []
    kinds = configured_kinds(account_id)
    # Zalo / WeChat followers get the notice on Zalo / WeChat when the account has that channel configured.
    chat = [ch for ch in (Citizen.CHANNEL_ZALO, Citizen.CHANNEL_WECHAT) if ch in kinds]
    if chat:
        parts.append(f"WHEN c.channel IN ({', '.join(['%s'] * len(chat))}) THEN c.channel")
        params += chat
    if ChannelConfig.KIND_WEBHOOK in kinds:
        parts.append("WHEN c.channel = %s THEN %s")
        params += [Citizen.CHANNEL_GENERIC, ChannelConfig.KIND_WEBHOOK]
    phone_channel = (
        BroadcastSettings.objects.filter(account_id=account_id).values_list("phone_channel", flat=True).first() or ""
    )
    if phone_channel and phone_channel in kinds:
        parts.append("WHEN c.channel = %s AND c.phone <> '' THEN %s")
        params += [Citizen.CHANNEL_WEB, phone_channel]
    if not parts:
        return "%s", [Delivery.CHANNEL_INAPP]
    return f"CASE {' '.join(parts)} ELSE %s END", [*params, Delivery.CHANNEL_INAPP]


def _area_match(alias: str, paths: list[str]) -> tuple[str, list]:
    sql = " OR ".join([f"{alias}.path = %s OR {alias}.path LIKE %s"] * len(paths))
    params: list = []
    for path in paths:
        params += [path, path + "/%"]
    return f"({sql})", params


def audience_from(notice: Notice) -> tuple[str, list]:
    """``FROM ... WHERE ...`` selecting the notice's recipients as citizen rows ``c``. Always has a WHERE."""
    citizen = _t(Citizen)
    if notice.references_id is not None:
        # Update or cancellation: exactly the citizens who received the original, whatever changed since.
        return (
            f"FROM {citizen} c WHERE c.id IN (SELECT d.citizen_id FROM {_t(Delivery)} d "
            f"WHERE d.notice_id = %s AND d.status IN (%s, %s, %s, %s))",
            [notice.references_id, *Delivery.RECEIVED_STATUSES, Delivery.STATUS_UNKNOWN],  # unknown: may have it
        )
    if notice.mode == Notice.MODE_TEST:
        return (
            f"FROM {citizen} c WHERE c.id IN (SELECT m.test_citizen_id FROM {_t(Membership)} m "
            f"WHERE m.account_id = %s AND m.in_test_group = %s AND m.test_citizen_id IS NOT NULL)",
            [notice.account_id, True],
        )
    sql = f"FROM {_t(Follow)} f JOIN {citizen} c ON c.id = f.citizen_id WHERE f.account_id = %s AND f.is_active = %s"
    params: list = [notice.account_id, True]
    if not notice.audience_all:  # "all followers" drops only the topic filter; areas and languages still narrow
        topic_keys = notice.audience_topics or [notice.category]
        topic_ids = list(
            Topic.objects.filter(account_id=notice.account_id, key__in=topic_keys).values_list("id", flat=True)
        )
        if not topic_ids:
            topic_ids = [-1]
        sql += (
            f" AND EXISTS (SELECT 1 FROM {_t(TopicSubscription)} ts WHERE ts.follow_id = f.id"
            f" AND ts.topic_id IN ({', '.join(['%s'] * len(topic_ids))}))"
        )
        params += topic_ids
    if notice.audience_areas:
        paths = list(Area.objects.filter(code__in=notice.audience_areas).values_list("path", flat=True)) or ["-"]
        fa = connection.ops.quote_name(Follow.areas.through._meta.db_table)
        area = _t(Area)
        chosen, chosen_params = _area_match("a", paths)
        home, home_params = _area_match("ha", paths)
        sql += (
            f" AND (EXISTS (SELECT 1 FROM {fa} fa JOIN {area} a ON a.id = fa.area_id WHERE fa.follow_id = f.id"
            f" AND {chosen}) OR (NOT EXISTS (SELECT 1 FROM {fa} fa2 WHERE fa2.follow_id = f.id)"
            f" AND EXISTS (SELECT 1 FROM {area} ha WHERE ha.id = c.home_area_id AND {home})))"
        )
        params += chosen_params + home_params
    if notice.audience_languages:
        sql += f" AND c.language IN ({', '.join(['%s'] * len(notice.audience_languages))})"
        params += list(notice.audience_languages)
    return sql, params


def audience_preview(notice: Notice) -> dict:
    """How many citizens the notice would reach now, per channel and per language (one grouped query)."""
    source, params = audience_from(notice)
    case, case_params = channel_case(notice.account_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {case} AS ch, c.language, COUNT(*) {source} GROUP BY 1, 2",  # noqa: S608 - params bound
            case_params + params,
        )
        rows = cursor.fetchall()
    by_channel: dict[str, int] = {}
    by_language: dict[str, int] = {}
    for channel, language, count in rows:
        by_channel[channel] = by_channel.get(channel, 0) + count
        by_language[language] = by_language.get(language, 0) + count
    return {"total": sum(by_channel.values()), "by_channel": by_channel, "by_language": by_language}


# --- materialise  ---
def deliveries_materialize(notice: Notice, *, now: dt.datetime, skip_existing: bool = True) -> int:
    """One ``INSERT ... SELECT`` creating a queued delivery per recipient. Works on PostgreSQL and SQLite.
    Returns rows inserted.

    ``skip_existing`` adds ``ON CONFLICT DO NOTHING`` so a re-run adds nothing. The dispatcher passes False: it
    holds the notice's row lock and moves it out of "scheduled" in the same transaction, so it can never
    materialise a notice twice, and the plain insert skips the speculative-insertion cost per row (about a
    fifth of the time at a million rows); the unique (notice, citizen) constraint still refuses a duplicate."""
    source, params = audience_from(notice)
    case, case_params = channel_case(notice.account_id)
    sql = (
        f"INSERT INTO {_t(Delivery)} (notice_id, citizen_id, channel, language, status, attempts, last_error,"
        f" provider_message_id, created_at) SELECT %s, c.id, {case}, c.language, %s, 0, '', '', %s {source}"
    )
    if skip_existing:
        sql += " ON CONFLICT (notice_id, citizen_id) DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, [notice.pk, *case_params, Delivery.STATUS_QUEUED, now, *params])
        return cursor.rowcount


def chunks_create(notice: Notice, *, now: dt.datetime) -> int:
    """Cut the notice's deliveries into id ranges per channel (set-based, one INSERT ... SELECT)."""
    sql = (
        f"INSERT INTO {_t(Chunk)} (notice_id, channel, first_id, last_id, status, attempts, created_at, updated_at)"
        " SELECT %s, channel, MIN(id), MAX(id), %s, 0, %s, %s FROM (SELECT id, channel,"
        " (ROW_NUMBER() OVER (PARTITION BY channel ORDER BY id) - 1) / (CASE WHEN channel = %s THEN %s ELSE %s END)"
        f" AS g FROM {_t(Delivery)} WHERE notice_id = %s) s GROUP BY channel, g"
        " ON CONFLICT (notice_id, first_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                notice.pk,
                Chunk.STATUS_PENDING,
                now,
                now,
                Delivery.CHANNEL_INAPP,
                INAPP_CHUNK,
                PROVIDER_CHUNK,
                notice.pk,
            ],
        )
        return cursor.rowcount


def _enqueue_chunks(chunk_ids: list[int]) -> None:
    chunks_enqueue(chunk_ids)


def notice_dispatch_one(*, now: dt.datetime | None = None) -> int | None:
    """Claim one due notice (skip_locked), mark it sending, materialise its deliveries and chunks in the same
    transaction; after commit, enqueue the chunks and push it live. Returns the notice id or None."""
    now = now or timezone.now()
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(skip_locked=True)
            .filter(status=Notice.STATUS_SCHEDULED, dispatch_at__lte=now)
            .order_by("dispatch_at", "id")
            .first()
        )
        if notice is None:
            return None
        if notice.expires_at is not None and notice.expires_at <= now:
            notice_expire(notice_id=notice.pk)
            return notice.pk
        started = time.monotonic()
        inserted = deliveries_materialize(notice, now=now, skip_existing=False)
        materialize_s = time.monotonic() - started
        chunks_create(notice, now=now)
        notice.status = Notice.STATUS_SENDING
        notice.started_at = now
        notice.recipients_count = inserted
        notice.counts = {"materialize_s": round(materialize_s, 3)}
        notice.save(update_fields=["status", "started_at", "recipients_count", "counts", "updated_at"])
        chunk_ids = list(Chunk.objects.filter(notice=notice).order_by("id").values_list("id", flat=True))
        notice_id = notice.pk
        transaction.on_commit(lambda: _enqueue_chunks(chunk_ids))
        transaction.on_commit(lambda: notice_push(notice_id=notice_id))
        if not chunk_ids:
            transaction.on_commit(lambda: notice_finish(notice_id=notice_id))
    logger.info("notice %s: %s deliveries in %.2fs, %s chunks", notice_id, inserted, materialize_s, len(chunk_ids))
    return notice_id


@contextmanager
def _tick_lock():
    """The dispatcher never overlaps itself: a PostgreSQL advisory lock, else a cache lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
            got = cursor.fetchone()[0]
        try:
            yield got
        finally:
            if got:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
        return
    got = cache.add("broadcasts:dispatch-lock", 1, timeout=120)
    try:
        yield got
    finally:
        if got:
            cache.delete("broadcasts:dispatch-lock")


def dispatcher_tick() -> dict:
    """One beat of the dispatcher: claim due notices, requeue abandoned chunks, finish or expire notices."""
    with _tick_lock() as got:
        if not got:
            return {"skipped": "another dispatcher is running"}
        now = timezone.now()
        dispatched = []
        for _i in range(DISPATCH_BATCH):
            notice_id = notice_dispatch_one(now=now)
            if notice_id is None:
                break
            dispatched.append(notice_id)
        requeued = chunks_sweep(now=now)
        finished = 0
        for notice_id, expires_at in Notice.objects.filter(status=Notice.STATUS_SENDING).values_list(
            "id", "expires_at"
        ):
            if expires_at is not None and expires_at <= now:
                notice_expire(notice_id=notice_id)
            elif notice_finish(notice_id=notice_id):
                finished += 1
        return {"dispatched": dispatched, "requeued": requeued, "finished": finished}


def chunks_sweep(*, now: dt.datetime) -> int:
    """Re-queue chunks of dead workers (lease over) and chunks whose task never started."""
    with transaction.atomic():
        stale = list(
            Chunk.objects.select_for_update(skip_locked=True)
            .filter(notice__status=Notice.STATUS_SENDING)
            .filter(
                Q(status=Chunk.STATUS_RUNNING, lease_until__lt=now)
                | Q(status=Chunk.STATUS_PENDING, updated_at__lt=now - dt.timedelta(seconds=PENDING_REQUEUE_S))
                | Q(status=Chunk.STATUS_PENDING, not_before__isnull=False, not_before__lte=now)
            )
            .values_list("id", flat=True)[:1000]
        )
        if stale:
            Chunk.objects.filter(pk__in=stale).update(status=Chunk.STATUS_PENDING, not_before=None, updated_at=now)
            transaction.on_commit(lambda: _enqueue_chunks(stale))
    if stale:
        logger.warning("re-queued %s abandoned chunks", len(stale))
    return len(stale)
