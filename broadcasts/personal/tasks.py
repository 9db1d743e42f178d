"""Beat tasks of personal notices: send the due ones, delete personal data after the retention period. (Sending
one and its status callbacks are tasks of broadcasts.personal.dispatch.)"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from broadcasts.personal import dispatch, services
from broadcasts.personal.models import Notification
from oa_platform.periodic import periodic_job

logger = logging.getLogger(__name__)

# Notifications taken by one run of the due sweep; the beat runs it again in 30 s, so a backlog drains in steps.
DUE_BATCH = 500
# A queued notification with no time set whose task has not run after this long lost it (broker restart,
# a provider that asked to wait): the sweep queues it again (sending is status-guarded, so never twice).
LOST_AFTER_S = 300


@shared_task(name="personal.send_due", ignore_result=True)
@periodic_job("personal.send_due")
def send_due() -> dict:
    """Queued notifications whose time has come (scheduled ones, and any whose task was lost)."""
    now = timezone.now()
    lost = Q(scheduled_for__isnull=True, created_at__lt=now - dt.timedelta(seconds=LOST_AFTER_S))
    ids = list(
        Notification.objects.filter(status=Notification.STATUS_QUEUED, purged_at=None)
        .filter(Q(scheduled_for__lte=now) | lost)
        .order_by("id")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )
    for pk in ids:
        dispatch.send_notification.delay(pk)
    return {"enqueued": len(ids)}


@shared_task(name="personal.purge", ignore_result=True)
@periodic_job("personal.purge")
def purge() -> dict:
    """Personal data past its retention period (the one periodic lock keeps two runs apart)."""
    return {"purged": services.personal_data_purge()}
