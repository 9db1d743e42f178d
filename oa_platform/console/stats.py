"""The bot's answer rate per day, for the console's Today page.

Where the decisions are recorded: every bot reply is a Message (sender ``bot``) with the matcher's
``decision`` (answer, suggest or fallback) and its ``score``. Commands and small talk (follow, stop, hello, a
person) are stored as ``fallback`` too but with no score (chat.chat_receive), so only replies the FAQ matcher
decided count. UnansweredQuestion keeps one row per distinct question (count, first and last seen), not
one per day, so it cannot give a daily series."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from oa_platform.models import Message, OfficialAccount

# The longest series the Today page asks for (its 30-day chart); the 7-day figure is a tail of it.
MAX_DAYS = 90
MATCHER_DECISIONS = (Message.DECISION_ANSWER, Message.DECISION_SUGGEST, Message.DECISION_FALLBACK)


@dataclass(frozen=True)
class DayRate:
    day: dt.date  # a day in the account's time zone
    questions: int  # bot replies the matcher decided
    answered: int  # of which answered outright
    suggested: int  # of which "did you mean ..."

    @property
    def rate(self) -> float | None:
        return 100.0 * self.answered / self.questions if self.questions else None


def answer_rate_days(*, account: OfficialAccount, days: int = 30, now: dt.datetime | None = None) -> list[DayRate]:
    """One row per day of the last ``days`` days (today included, the account's time zone), oldest first,
    days without questions included with zeros. One grouped query, whatever ``days`` (at most MAX_DAYS)."""
    days = max(1, min(int(days), MAX_DAYS))
    tz = account.tzinfo
    today = (now or timezone.now()).astimezone(tz).date()
    first = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    rows = (
        Message.objects.filter(
            conversation__account=account,
            sender=Message.SENDER_BOT,
            direction=Message.DIRECTION_OUT,
            decision__in=MATCHER_DECISIONS,
            score__isnull=False,
            created_at__gte=start,
        )
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(
            questions=Count("id"),
            answered=Count("id", filter=Q(decision=Message.DECISION_ANSWER)),
            suggested=Count("id", filter=Q(decision=Message.DECISION_SUGGEST)),
        )
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    series = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        row = by_day.get(day, {})
        series.append(DayRate(day, row.get("questions", 0), row.get("answered", 0), row.get("suggested", 0)))
    return series


def rate_of(series: list[DayRate]) -> DayRate | None:
    """The days of ``series`` summed (``day``: the last one); None for an empty series."""
    if not series:
        return None
    return DayRate(
        series[-1].day,
        sum(d.questions for d in series),
        sum(d.answered for d in series),
        sum(d.suggested for d in series),
    )
