"""In-app channel: the notice is in the citizen's inbox as soon as its delivery is marked sent (one UPDATE per
chunk); open chat pages get it through ONE group send per notice (see broadcasts.live.notice_push)."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from broadcasts.models import Delivery


def inapp_send_range(*, notice_id: int, first_id: int, last_id: int) -> int:
    """Mark the queued in-app deliveries of an id range sent. Status-guarded: a re-run changes nothing."""
    return Delivery.objects.filter(
        notice_id=notice_id,
        id__gte=first_id,
        id__lte=last_id,
        channel=Delivery.CHANNEL_INAPP,
        status=Delivery.STATUS_QUEUED,
    ).update(status=Delivery.STATUS_SENT, sent_at=timezone.now(), attempts=F("attempts") + 1)
