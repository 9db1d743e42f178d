"""Sending one personal notification: the send task, the plan with one fallback, the status history with its
signed callbacks, and provider receipts. Defined beside what they run (as broadcasts.sending) so that the
services can enqueue them without an import circle: this module imports nothing of broadcasts.personal.services.

All sending goes through ``broadcasts.personal.sending``. Personal data (phones, personalisation, rendered text)
is never logged: log lines name notification ids.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

import httpx
from celery import shared_task
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from broadcasts.personal import inapp, rendering, selectors, sending
from broadcasts.personal.models import (
    CHANNEL_INAPP,
    CHANNEL_SMS,
    CHANNEL_ZNS,
    Notification,
    PersonalSettings,
    RecipientList,
    StatusEvent,
    TemplateVersion,
    TokenCallback,
)
from broadcasts.personal.plan import CHANNELS, DEFAULT_ORDER, choose, daily_limit
from oa_platform.channel_types.quota import QUOTA_REACHED
from oa_platform.channel_types.signing import signed_headers
from oa_platform.models import OfficialAccount
from oa_platform.provider_http import ProviderAddressRefused, provider_post

logger = logging.getLogger(__name__)

# At most this many channels are tried for one message: the planned one and one fallback.
MAX_TRIES = 2
# Notifications of a list one chunk task takes: its in-app part is ONE statement (broadcasts.personal.inapp,
# ~0.3 s for 5,000 rows on PostgreSQL), so 5,000 keeps a 1,000,000-row list at 200 tasks (as
# broadcasts.fanout.INAPP_CHUNK) while a cancel or a killed worker costs at most one chunk of re-checking.
LIST_CHUNK = 5000
# What in-app does not take goes one by one through rate-limited providers (tens per second): a chunk hands that
# rest on in sub-ranges of this many, a few seconds of work each.
SEND_CHUNK = 200
# A chunk re-reads its list's status every this many messages: a cancel stops each chunk within 10 messages
# (cancelling also marks every queued notification cancelled at once, so those are never claimed anyway).
# The same check stops a chunk whose list's expiry passed (every message is also claimed only before it).
CANCEL_CHECK_EVERY = 10
CALLBACK_TIMEOUT_S = 5.0
# Ids per UPDATE when a list expires on SQLite (under its limit of bound variables per statement).
EXPIRE_BATCH = 500


@shared_task(name="personal.send_notification", ignore_result=True, acks_late=True)
def send_notification(notification_id: int) -> dict:
    result = notification_send(notification_id=notification_id)
    if result.get("list"):
        list_finish(list_id=result["list"])
    if "retry_after" in result:
        send_notification.apply_async((notification_id,), countdown=max(1.0, result["retry_after"]))
    return result


@shared_task(name="personal.status_callback", bind=True, ignore_result=True, max_retries=5)
def status_callback(self, event_id: int) -> dict:
    """POST one status change, signed, to the callback URL of the token that created the notification.
    A network error or a 5xx is retried with backoff by a worker; run in-process (no broker: the local
    default) it is only logged, so a client's broken callback never breaks a send."""
    event = StatusEvent.objects.select_related("notification").filter(pk=event_id).first()
    if event is None or event.notification.token_id is None:
        return {"event": event_id, "skipped": True}
    callback = TokenCallback.objects.filter(token_id=event.notification.token_id).first()
    if callback is None:
        return {"event": event_id, "skipped": True}
    notification = event.notification
    body = json.dumps(
        {
            "id": notification.pk,
            "reference": notification.reference,
            "status": event.status,
            "channel": event.channel,
            "reason": event.reason,
            "at": event.at.isoformat(),
        },
        sort_keys=True,
    ).encode()
    timestamp = str(int(timezone.now().timestamp()))
    headers = signed_headers(secret=callback.secret, timestamp=timestamp, body=body)
    try:
        response = provider_post(callback.url, timeout=CALLBACK_TIMEOUT_S, content=body, headers=headers)
        if response.status_code >= 500:
            raise httpx.HTTPStatusError("callback answered 5xx", request=response.request, response=response)
    except ProviderAddressRefused:
        logger.warning("personal callback for event %s refused: not a public address", event_id)
        return {"event": event_id, "refused": True}
    except httpx.HTTPError as exc:
        logger.warning("personal callback for event %s failed: %s", event_id, type(exc).__name__)
        if self.request.is_eager:
            return {"event": event_id, "failed": True}
        raise self.retry(exc=exc, countdown=min(300, 2 ** (self.request.retries + 1))) from exc
    return {"event": event_id, "status": response.status_code}


def text_for(version: TemplateVersion, *, channel: str, language: str, values: dict[str, str]) -> str:
    """What ``channel`` carries: SMS its own text (else the Vietnamese body), the others the body in the
    person's language; the link after the text."""
    if channel == CHANNEL_SMS:
        text = rendering.render(version.sms_text or version.body_vi, values)
    else:
        text = rendering.render(version.body_for(language), values)
    return f"{text}\n{version.link}" if version.link else text


def status_event(notification: Notification, status: str, *, channel: str = "", reason: str = "") -> StatusEvent:
    event = StatusEvent.objects.create(
        notification=notification, status=status, channel=channel, reason=reason[:300], at=timezone.now()
    )
    if notification.token_id is not None:
        transaction.on_commit(lambda: status_callback.delay(event.pk))
    return event


def _set(notification: Notification, status: str, *, channel: str = "", reason: str = "", **fields) -> None:
    Notification.objects.filter(pk=notification.pk).update(status=status, reason=reason[:300], **fields)
    notification.status, notification.reason = status, reason[:300]
    for key, value in fields.items():
        setattr(notification, key, value)
    status_event(notification, status, channel=channel, reason=reason)


@dataclass(frozen=True)
class SendContext:
    """What is the same for every message of a list: read once per chunk instead of once per message."""

    policy: PersonalSettings
    available: frozenset[str]
    quotas: dict[str, int]  # the account's own daily quota per channel where its configuration sets one


def send_context(*, account: OfficialAccount, version: TemplateVersion) -> SendContext:
    return SendContext(
        policy=selectors.settings_for(account),
        available=frozenset(sending.available_channels(account=account, zns_template_id=version.zns_template_id)),
        quotas=selectors.channel_quotas(account),
    )


def notification_send(*, notification_id: int, context: SendContext | None = None) -> dict:
    """Send one queued notification: plan its channel, send, and on a permanent failure let the next channel
    take over once (the reason is recorded). Claimed with a status guard: a second run does nothing.
    ``context``: the account's settings and channels when the caller sends many of the same list."""
    now = timezone.now()
    # Every condition is on the claimed row itself (the list's expiry as EXISTS, not a join): with a join Django
    # writes "id IN (SELECT …)", whose status check PostgreSQL does not repeat after waiting for another worker's
    # claim of the same row, and both workers would send.
    expired = RecipientList.objects.filter(pk=OuterRef("recipient_list_id"), expires_at__lte=now)
    claimed = (
        Notification.objects.filter(pk=notification_id, status=Notification.STATUS_QUEUED, purged_at=None)
        .filter(Q(scheduled_for__isnull=True) | Q(scheduled_for__lte=now))
        .exclude(Exists(expired))
        .update(status=Notification.STATUS_SENDING)
    )
    if not claimed:
        expired_list = (
            Notification.objects.filter(
                pk=notification_id, status=Notification.STATUS_QUEUED, recipient_list__expires_at__lte=now
            )
            .values_list("recipient_list_id", flat=True)
            .first()
        )
        if expired_list is not None:  # its list's "do not send after" passed: the list stops, this one with it
            list_expire(list_id=expired_list, now=now)
            return {"notification": notification_id, "list": expired_list, "status": Notification.STATUS_EXPIRED}
        return {"notification": notification_id, "skipped": True}
    notification = Notification.objects.select_related("account", "version", "version__template", "citizen").get(
        pk=notification_id
    )
    account, version = notification.account, notification.version
    context = context or send_context(account=account, version=version)
    policy = context.policy
    values = notification.personalisation or {}
    recipient, targets = selectors.recipient_reach(
        account=account, phone=notification.phone, citizen=notification.citizen
    )
    available = set(context.available)
    tried = list(notification.tried_channels or [])
    caps = policy.daily_caps or {}
    limited = {c for c in available if c in CHANNELS and daily_limit(CHANNELS[c], caps, context.quotas) is not None}
    note = ""
    try:
        text_for(version, channel="", language=notification.language, values=values)
        sms = rendering.sms_length(text_for(version, channel=CHANNEL_SMS, language="vi", values=values))
    except rendering.MissingValues as exc:
        _set(notification, Notification.STATUS_FAILED, reason=f"missing values: {exc}")
        return {"notification": notification_id, "list": notification.recipient_list_id, "status": "failed"}
    full: list[str] = []  # channels whose daily quota the provider layer found spent meanwhile (not a try)
    while len(tried) < MAX_TRIES:
        choice = choose(
            recipient,
            order=policy.channel_order or DEFAULT_ORDER,
            available=available,
            used_today=selectors.used_today(account=account, now=now, channels=limited),
            caps=policy.daily_caps or {},
            segments=sms.segments,
            exclude=(*tried, *full),
            now=now,
            quotas=context.quotas,
        )
        if choice.channel is None:
            reason = f"{note}; {choice.reason}" if note else choice.reason
            _set(notification, Notification.STATUS_FAILED, reason=reason, tried_channels=tried)
            return {"notification": notification_id, "list": notification.recipient_list_id, "status": "failed"}
        channel = choice.channel
        tried.append(channel)
        Notification.objects.filter(pk=notification.pk).update(channel=channel, tried_channels=tried)
        notification.channel = channel
        status_event(notification, Notification.STATUS_SENDING, channel=channel)
        text = text_for(version, channel=channel, language=notification.language, values=values)
        target = sending.Target(phone=recipient.phone, citizen=targets.get(channel))
        result = sending.send(notification=notification, channel=channel, target=target, text=text)
        if result.status == sending.RETRY and result.error == QUOTA_REACHED:
            # Another worker took the channel's last message of the day between the plan and the send: the next
            # channel takes over now instead of this one waiting for midnight.
            tried.pop()
            full.append(channel)
            status_event(notification, Notification.STATUS_QUEUED, channel=channel, reason=QUOTA_REACHED)
            continue
        if result.status == sending.RETRY:
            tried.pop()
            _set(
                notification, Notification.STATUS_QUEUED, channel=channel, reason="provider busy", tried_channels=tried
            )
            return {"notification": notification_id, "list": None, "retry_after": result.retry_after}
        if result.status == sending.SENT:
            segments = rendering.sms_length(text).segments if channel == CHANNEL_SMS else 0
            _set(
                notification,
                Notification.STATUS_SENT,
                channel=channel,
                reason=note,
                provider_message_id=(result.provider_id or "")[:128],
                segments=segments,
                cost=CHANNELS[channel].cost(segments),
                sent_at=timezone.now(),
            )
            return {
                "notification": notification_id,
                "list": notification.recipient_list_id,
                "status": "sent",
                "channel": channel,
            }
        error = (result.error or "failed")[:200]
        if not sending.is_permanent(result) or len(tried) >= MAX_TRIES:
            reason = f"{note}; {channel} failed: {error}" if note else error
            _set(notification, Notification.STATUS_FAILED, channel=channel, reason=reason)
            return {"notification": notification_id, "list": notification.recipient_list_id, "status": "failed"}
        note = f"{channel} failed: {error}"
        logger.info("personal notification %s: %s failed permanently, next channel", notification_id, channel)
        status_event(notification, Notification.STATUS_QUEUED, channel=channel, reason=note)
    _set(notification, Notification.STATUS_FAILED, reason=note)
    return {"notification": notification_id, "list": notification.recipient_list_id, "status": "failed"}


# Provider receipt statuses -> ours.
RECEIPT_STATUSES = {"delivered": Notification.STATUS_DELIVERED, "failed": Notification.STATUS_FAILED}


def notification_receipt(
    *, account: OfficialAccount, kind: str, message_id: str, status: str, reason: str = ""
) -> bool:
    """A provider's delivery receipt (ZNS or SMS): delivered, or failed with a reason. Only a sent notification
    of ``account`` on that channel changes; a repeated or late receipt changes nothing. False when unknown."""
    if kind not in (CHANNEL_ZNS, CHANNEL_SMS) or status not in RECEIPT_STATUSES or not message_id:
        return False
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .filter(account=account, channel=kind, provider_message_id=message_id[:128])
            .first()
        )
        if notification is None or notification.status != Notification.STATUS_SENT:
            return notification is not None
        _set(notification, RECEIPT_STATUSES[status], channel=kind, reason=reason[:200])
    return True


# --- lists  ---
def list_ranges(*, list_id: int, size: int = LIST_CHUNK) -> list[tuple[int, int]]:
    """The list's queued notifications cut into id ranges of ``size`` (one grouped query, no ids in memory)."""
    table = connection.ops.quote_name(Notification._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MIN(id), MAX(id) FROM (SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) / %s AS g"
            f" FROM {table} WHERE recipient_list_id = %s AND status = %s) s GROUP BY g ORDER BY 1",
            [size, list_id, Notification.STATUS_QUEUED],
        )
        return [(first, last) for first, last in cursor.fetchall()]


def list_enqueue(*, list_id: int) -> int:
    """One chunk task per LIST_CHUNK queued notifications of the list (call after they are committed)."""
    ranges = list_ranges(list_id=list_id)
    for first, last in ranges:
        send_list_chunk.delay(list_id, first, last)
    return len(ranges)


def inapp_first(context: SendContext) -> bool:
    """Whether the planner picks in-app for everyone it reaches: no channel the account has is before it in the
    order (a channel before it would be chosen per person; then everything goes one by one)."""
    order = context.policy.channel_order or DEFAULT_ORDER
    if CHANNEL_INAPP not in order:
        return False
    before = order[: order.index(CHANNEL_INAPP)]
    return not any(c in context.available and c in CHANNELS for c in before)


def list_send_inapp(*, recipient_list: RecipientList, first_id: int, last_id: int, context: SendContext) -> int:
    """The set-based in-app part of a chunk (broadcasts.personal.inapp): everyone in the range the planner would
    send in-app, in one statement, within in-app's daily limit if the account has one. Returns how many were
    sent; the rest stays queued for the per-message path. PostgreSQL only (0 elsewhere)."""
    if connection.vendor != "postgresql" or not inapp_first(context):
        return 0
    account = recipient_list.account
    limit = daily_limit(CHANNELS[CHANNEL_INAPP], context.policy.daily_caps or {}, context.quotas)
    now = timezone.now()
    with transaction.atomic():
        if limit is not None:
            inapp.lock_daily_limit(account.pk)
            used = selectors.used_today(account=account, now=now, channels={CHANNEL_INAPP}).get(CHANNEL_INAPP, 0)
            limit = max(0, limit - used)
        return inapp.send_range(
            list_id=recipient_list.pk,
            account_id=account.pk,
            version=recipient_list.version,
            first_id=first_id,
            last_id=last_id,
            now=now,
            limit=limit,
        )


@shared_task(name="personal.send_list_chunk", ignore_result=True, acks_late=True)
def send_list_chunk(list_id: int, first_id: int, last_id: int) -> dict:
    """Send the queued notifications of a list in an id range: in-app for everyone it reaches in one statement,
    then the rest one by one (in sub-range tasks of SEND_CHUNK when there are more), stopping when the list is
    cancelled. Runs twice harmlessly: every notification is claimed with a status guard."""
    counts = {"sent": 0, "failed": 0}
    recipient_list = RecipientList.objects.select_related("account", "version").filter(pk=list_id).first()
    if recipient_list is None:
        return {"list": list_id, "stopped": "deleted", **counts}
    if list_expire(list_id=list_id):
        return {"list": list_id, "stopped": RecipientList.STATUS_EXPIRED, **counts}
    context = send_context(account=recipient_list.account, version=recipient_list.version)
    if recipient_list.status == RecipientList.STATUS_SENDING:
        counts["sent"] += list_send_inapp(
            recipient_list=recipient_list, first_id=first_id, last_id=last_id, context=context
        )
    rest = list(
        Notification.objects.filter(
            recipient_list_id=list_id, id__gte=first_id, id__lte=last_id, status=Notification.STATUS_QUEUED
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    if len(rest) > SEND_CHUNK:
        pieces = [rest[i : i + SEND_CHUNK] for i in range(0, len(rest), SEND_CHUNK)]
        for piece in pieces:
            send_list_chunk.delay(list_id, piece[0], piece[-1])
        return {"list": list_id, **counts, "handed_on": len(rest)}
    for position, pk in enumerate(rest):
        if position % CANCEL_CHECK_EVERY == 0:
            status, expires_at = RecipientList.objects.filter(pk=list_id).values_list(
                "status", "expires_at"
            ).first() or (None, None)
            if status == RecipientList.STATUS_SENDING and expires_at is not None and expires_at <= timezone.now():
                list_expire(list_id=list_id)
                status = RecipientList.STATUS_EXPIRED
            if status != RecipientList.STATUS_SENDING:
                return {"list": list_id, "stopped": status, **counts}
        result = notification_send(notification_id=pk, context=context)
        if result.get("status") in counts:
            counts[result["status"]] += 1
    list_finish(list_id=list_id)
    return {"list": list_id, **counts}


def list_expire(*, list_id: int, now: dt.datetime | None = None) -> int:
    """Stop a list whose "do not send after" time has passed, like a cancel by the clock: the list ends "expired"
    and each of its still queued notifications ends "expired" (reason "expired", with that step in its status
    history), in one statement on PostgreSQL. A notification being posted at that moment finishes. Returns how
    many were stopped; 0 (and nothing changes) when the list is not waiting or sending, or has not expired."""
    now = now or timezone.now()
    with transaction.atomic():
        found = (
            RecipientList.objects.select_for_update()
            .filter(
                pk=list_id,
                status__in=(RecipientList.STATUS_PENDING, RecipientList.STATUS_SENDING),
                expires_at__lte=now,
            )
            .first()
        )
        if found is None:
            return 0
        RecipientList.objects.filter(pk=list_id).update(status=RecipientList.STATUS_EXPIRED)
        queued = Notification.objects.filter(recipient_list_id=list_id, status=Notification.STATUS_QUEUED)
        if connection.vendor == "postgresql":
            table, events = (connection.ops.quote_name(m._meta.db_table) for m in (Notification, StatusEvent))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"WITH done AS (UPDATE {table} SET status = %(expired)s, reason = %(expired)s"
                    f" WHERE recipient_list_id = %(list)s AND status = %(queued)s RETURNING id)"
                    f" INSERT INTO {events} (notification_id, status, channel, reason, at)"
                    f" SELECT id, %(expired)s, '', %(expired)s, %(now)s FROM done",
                    {
                        "expired": Notification.STATUS_EXPIRED,
                        "list": list_id,
                        "queued": Notification.STATUS_QUEUED,
                        "now": now,
                    },
                )
                stopped = cursor.rowcount
        else:  # SQLite (the embedded default): the same, EXPIRE_BATCH ids per UPDATE
            ids = list(queued.values_list("id", flat=True))
            stopped = 0
            for start in range(0, len(ids), EXPIRE_BATCH):
                batch = ids[start : start + EXPIRE_BATCH]
                stopped += queued.filter(id__in=batch).update(
                    status=Notification.STATUS_EXPIRED, reason=Notification.STATUS_EXPIRED
                )
            StatusEvent.objects.bulk_create(
                (
                    StatusEvent(
                        notification_id=pk,
                        status=Notification.STATUS_EXPIRED,
                        reason=Notification.STATUS_EXPIRED,
                        at=now,
                    )
                    for pk in ids
                ),
                batch_size=EXPIRE_BATCH,
            )
    logger.info("personal list %s expired: %s notifications not sent", list_id, stopped)
    return stopped


def list_finish(*, list_id: int) -> bool:
    """Mark a sending list sent once none of its notifications is open. Idempotent."""
    open_statuses = (Notification.STATUS_QUEUED, Notification.STATUS_SENDING)
    if Notification.objects.filter(recipient_list_id=list_id, status__in=open_statuses).exists():
        return False
    return bool(
        RecipientList.objects.filter(pk=list_id, status=RecipientList.STATUS_SENDING).update(
            status=RecipientList.STATUS_SENT
        )
    )
