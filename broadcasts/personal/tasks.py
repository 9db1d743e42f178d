"""Beat tasks of personal notices: send the due ones, delete personal data after the retention period. (Sending
one and its status callbacks are tasks of broadcasts.personal.dispatch.)"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from broadcasts.personal import dispatch, services
from broadcasts.personal.models import Notification, RecipientList
from oa_platform.periodic import periodic_job

logger = logging.getLogger(__name__)

# Notifications taken by one run of the due sweep; the beat runs it again in 30 s, so a backlog drains in steps.
DUE_BATCH = 500
# Lists whose scheduled notifications one run of the sweep hands to their chunk tasks.
DUE_LISTS = 20
# A queued notification with no time set whose task has not run after this long lost it (broker restart,
# a provider that asked to wait): the sweep queues it again (sending is status-guarded, so never twice).
LOST_AFTER_S = 300


@shared_task(name="personal.send_due", ignore_result=True)
@periodic_job("personal.send_due")
def send_due() -> dict:
    """Queued notifications whose time has come (scheduled ones, and any whose task was lost). A list's scheduled
    notifications go out as the list's chunk tasks (in-app set-based), not one task each. Returns the number of
    tasks enqueued."""
    now = timezone.now()
    # Lists past their "do not send after" time stop first (their queued notifications end "expired").
    expired = RecipientList.objects.filter(
        status__in=(RecipientList.STATUS_PENDING, RecipientList.STATUS_SENDING), expires_at__lte=now
    )
    for list_id in expired.values_list("pk", flat=True)[:DUE_LISTS]:
        dispatch.list_expire(list_id=list_id, now=now)
    queued = Notification.objects.filter(status=Notification.STATUS_QUEUED, purged_at=None)
    list_ids = list(
        queued.filter(scheduled_for__lte=now, recipient_list__status=RecipientList.STATUS_SENDING)
        .values_list("recipient_list_id", flat=True)
        .distinct()[:DUE_LISTS]
    )
    # A list still sending when the next sweep comes is enqueued again: its chunks are status-guarded, so the
    # repeat costs one index probe per chunk and sends nothing twice.
    tasks = sum(dispatch.list_enqueue(list_id=list_id) for list_id in list_ids)
    lost = Q(scheduled_for__isnull=True, created_at__lt=now - dt.timedelta(seconds=LOST_AFTER_S))
    ids = list(
        queued.filter(Q(scheduled_for__lte=now, recipient_list__isnull=True) | lost)
        .order_by("id")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )
    for pk in ids:
        dispatch.send_notification.delay(pk)
    return {"enqueued": tasks + len(ids)}


@shared_task(name="personal.purge", ignore_result=True)
@periodic_job("personal.purge")
def purge() -> dict:
    """Personal data past its retention period (the one periodic lock keeps two runs apart)."""
    return {"purged": services.personal_data_purge()}
