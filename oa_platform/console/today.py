"""Today: the console's landing page (``/staff/<slug>/``) — what waits for the signed-in person now and how
the bot is doing. Each block shows only to the roles that act on it."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from oa_platform.console import labels, stats
from oa_platform.console.access import APPROVERS, EDITORS, SENDERS, console_view, role_allows
from oa_platform.console.charts import Point, daily_rate_svg
from oa_platform.console.today_selectors import (
    TODAY_MAX,
    notices_sending,
    notices_to_approve,
    unanswered_this_week,
    waiting_conversations,
)

CHART_DAYS = 30
SHORT_DAYS = 7


def _day(day, language_chinese: bool) -> str:
    return f"{day:%m/%d}" if language_chinese else f"{day:%d/%m}"


def answer_rate_context(account, *, now=None) -> dict:
    series = stats.answer_rate_days(account=account, days=CHART_DAYS, now=now)
    chinese = (translation.get_language() or "").startswith("zh")
    week, month = stats.rate_of(series[-SHORT_DAYS:]), stats.rate_of(series)
    points = [Point(_day(d.day, chinese), d.rate) for d in series]
    title = _("Tỉ lệ trợ lý tự động trả lời được, %(days)d ngày qua") % {"days": CHART_DAYS}
    if month.questions:
        description = _("%(answered)d trong %(questions)d câu hỏi được trả lời (%(rate).0f%%).") % {
            "answered": month.answered,
            "questions": month.questions,
            "rate": month.rate,
        }
    else:
        description = _("Chưa có câu hỏi nào.")
    return {
        "rate_week": week,
        "rate_month": month,
        "rate_days": [
            {"label": _day(d.day, chinese), "questions": d.questions, "answered": d.answered, "rate": d.rate}
            for d in series
        ],
        "rate_chart": daily_rate_svg(points, title=title, description=description, chart_id="rate-chart"),
    }


@console_view()
@require_GET
def today(request, slug: str):
    account, role, now = request.account, request.role, timezone.now()
    waiting = waiting_conversations(account=account)
    context = {
        "account": account,
        "zone": labels.zone_name(account, now=now),
        "waiting_count": waiting.count(),
        "waiting": [
            {
                "conversation": c,
                "label": labels.citizen_label(c.citizen),
                "channel": labels.channel_label(c.citizen.channel),
                "phone": c.citizen.masked_phone,
                "waited": labels.waited(c.handoff_requested_at or c.last_message_at, now=now),
                "since": labels.local_time(c.handoff_requested_at or c.last_message_at, account, now=now),
            }
            for c in waiting[:TODAY_MAX]
        ],
        **answer_rate_context(account, now=now),
    }
    if role_allows(role, APPROVERS):
        context["to_approve"] = [
            {
                "notice": n,
                "url": reverse("staff:notice", args=[slug, n.pk]),
                "author": n.author.get_username() if n.author else (n.author_token.name if n.author_token else ""),
                "submitted": labels.local_time(n.created_at, account, now=now),
            }
            for n in notices_to_approve(account=account, user=request.user)
        ]
    if role_allows(role, SENDERS):
        context["sending"] = [
            {
                **row,
                "url": reverse("staff:notice", args=[slug, row["notice"].pk]),
            }
            for row in notices_sending(account=account)
        ]
    if role_allows(role, EDITORS):
        context["unanswered"] = unanswered_this_week(account=account, now=now)
        context["unanswered_url"] = reverse("staff:faq-review", args=[slug])
    return render(request, "staff/today/today.html", context)
