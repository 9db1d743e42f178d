"""Reads of the broadcasts app, scoped to a tenant."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, QuerySet

from broadcasts.models import Delivery, Notice
from oa_platform.models import OfficialAccount
from oa_platform.selectors import accounts_for_user
from oa_platform.url_policy import is_web_url

INBOX_MAX = 200


def notices_for_account(*, account: OfficialAccount) -> QuerySet[Notice]:
    return Notice.objects.filter(account=account).select_related("account", "references")


def notices_for_user(*, user: AbstractBaseUser) -> QuerySet[Notice]:
    return Notice.objects.filter(account__in=accounts_for_user(user)).select_related("account")


def notice_progress(*, notice: Notice) -> dict:
    """Counts per status (and per channel and status) right now; one grouped query."""
    by_channel: dict[str, dict[str, int]] = {}
    by_status: dict[str, int] = {}
    rows = Delivery.objects.filter(notice=notice).values("channel", "status").annotate(n=Count("id"))
    for row in rows:
        by_channel.setdefault(row["channel"], {})[row["status"]] = row["n"]
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
    total = sum(by_status.values())
    done = total - sum(by_status.get(status, 0) for status in Delivery.OPEN_STATUSES)
    return {
        "status": notice.status,
        "total": total,
        "done": done,
        "percent": round(100.0 * done / total, 1)
        if total
        else (100.0 if notice.status in Notice.FINAL_STATUSES else 0.0),
        "by_status": by_status,
        "by_channel": by_channel,
    }


def inbox_for(*, account, citizen, after_id=None, limit=50) -> list[dict]:
    """Notices ``citizen`` received from ``account`` (newest last), in their language; ``after_id`` is a
    notice id for reconnect catch-up. At most ``limit`` (capped at INBOX_MAX) items: the newest ones."""
    limit = max(1, min(int(limit or 50), INBOX_MAX))
    rows = Delivery.objects.filter(
        notice__account=account, citizen=citizen, status__in=Delivery.RECEIVED_STATUSES
    ).select_related("notice")
    if after_id is not None:
        rows = rows.filter(notice_id__gt=after_id)
    rows = list(rows.order_by("-notice_id")[:limit])
    # Withdrawn: cancelled by staff while sending, or a cancel follow-up (CAP Cancel) went out for it.
    withdrawn = set(
        Notice.objects.filter(
            references_id__in=[d.notice_id for d in rows],
            kind=Notice.KIND_CANCEL,
            status__in=(Notice.STATUS_SENDING, Notice.STATUS_SENT, Notice.STATUS_EXPIRED),
        ).values_list("references_id", flat=True)
    )
    items = []
    for delivery in reversed(rows):
        notice = delivery.notice
        title, body = notice.text_for(citizen.language)
        items.append(
            {
                "id": notice.pk,
                "title": title,
                "body": body,
                "severity": notice.severity,
                "category": notice.category,
                "sent_at": (delivery.sent_at or notice.started_at).isoformat()
                if (delivery.sent_at or notice.started_at)
                else None,
                "link": notice.link if is_web_url(notice.link) else "",  # defence in depth: http(s) only
                "kind": notice.kind,
                "references": notice.references_id,
                "withdrawn": notice.status == Notice.STATUS_CANCELLED or notice.pk in withdrawn,
            }
        )
    return items


def notice_counts(notice_id: int) -> dict:
    """Deliveries of a notice counted by channel and status: ``{channel: {status: n}}``."""
    counts: dict[str, dict[str, int]] = {}
    rows = Delivery.objects.filter(notice_id=notice_id).values("channel", "status").annotate(n=Count("id"))
    for row in rows:
        counts.setdefault(row["channel"], {})[row["status"]] = row["n"]
    return counts
