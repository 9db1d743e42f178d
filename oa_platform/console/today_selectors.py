"""Reads of the console's Today page, scoped to one account (and, for approvals, to the person)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from broadcasts.models import Delivery, Notice
from broadcasts.selectors import notices_for_account
from broadcasts.services import Actor, is_own_notice
from faq.models import UnansweredQuestion
from oa_platform.models import Conversation, OfficialAccount

# Rows of each list on the page; the full lists are one click away (inbox, notices, FAQ review).
TODAY_MAX = 10
UNANSWERED_WINDOW = dt.timedelta(days=7)


def waiting_conversations(*, account: OfficialAccount) -> QuerySet[Conversation]:
    """Conversations waiting for staff, longest waiting first."""
    return (
        Conversation.objects.filter(account=account, status=Conversation.STATUS_WAITING)
        .select_related("citizen")
        .order_by("handoff_requested_at", "id")
    )


def notices_to_approve(*, account: OfficialAccount, user) -> list[Notice]:
    """Notices waiting for approval that ``user`` may approve: not their own, not written through one of
    their tokens (the two-person rule of broadcasts.services.notice_approve). Oldest submitted first."""
    pending = (
        notices_for_account(account=account)
        .filter(status=Notice.STATUS_PENDING)
        .exclude(author=user)
        .exclude(author_token__created_by=user)
        .select_related("author", "author_token")
        .order_by("created_at", "id")[:TODAY_MAX]
    )
    actor = Actor(user=user)
    return [notice for notice in pending if not is_own_notice(notice=notice, actor=actor)]


def notices_sending(*, account: OfficialAccount) -> list[dict]:
    """Notices being sent now with their progress (done of total deliveries); one grouped query for all."""
    notices = list(notices_for_account(account=account).filter(status=Notice.STATUS_SENDING).order_by("started_at"))
    counts: dict[int, dict[str, int]] = {n.pk: {"total": 0, "open": 0} for n in notices}
    rows = (
        Delivery.objects.filter(notice__in=[n.pk for n in notices])
        .values("notice_id", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["notice_id"]]["total"] += row["n"]
        if row["status"] in Delivery.OPEN_STATUSES:
            counts[row["notice_id"]]["open"] += row["n"]
    return [
        {
            "notice": notice,
            "total": counts[notice.pk]["total"],
            "done": counts[notice.pk]["total"] - counts[notice.pk]["open"],
        }
        for notice in notices
    ]


def unanswered_this_week(*, account: OfficialAccount, now: dt.datetime | None = None) -> dict[str, int]:
    """Open unanswered questions seen in the last 7 days: distinct questions and how often they were asked."""
    since = (now or timezone.now()) - UNANSWERED_WINDOW
    totals = UnansweredQuestion.objects.filter(
        account=account, status=UnansweredQuestion.STATUS_OPEN, last_seen__gte=since
    ).aggregate(questions=Count("id"), asked=Sum("count"))
    return {"questions": totals["questions"] or 0, "asked": totals["asked"] or 0}
