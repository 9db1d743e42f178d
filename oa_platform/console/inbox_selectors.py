"""Reads of the console's inbox, scoped to one account: the conversation list by filter, with the last
message and the counts per filter, each in one query."""

from __future__ import annotations

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Substr

from oa_platform.console.labels import PREVIEW_CHARS
from oa_platform.conversations.handoff import undelivered_messages
from oa_platform.models import Conversation, Message, OfficialAccount

# all: what needs staff (waiting, open, or holding a reply that did not reach the citizen);
# closed: handed back to the bot after staff answered.
FILTERS = ("all", "waiting", "mine", "open", "closed")
DEFAULT_FILTER = "all"
# Rows in one list: the closed filter grows forever, the page shows the most recent ones.
LIST_MAX = 100


def _annotated(account: OfficialAccount) -> QuerySet[Conversation]:
    staff_messages = Message.objects.filter(conversation=OuterRef("pk"), sender=Message.SENDER_STAFF)
    return Conversation.objects.filter(account=account).annotate(
        has_undelivered=Exists(undelivered_messages().filter(conversation=OuterRef("pk"))),
        staff_answered=Exists(staff_messages),
    )


def with_last_text(rows: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Adds ``last_text`` and ``last_at``: the head of the latest message a person wrote (the citizen or
    staff; the bot's and the system's notes say nothing about the case), by correlated subqueries."""
    last = Message.objects.filter(
        conversation=OuterRef("pk"), sender__in=(Message.SENDER_CITIZEN, Message.SENDER_STAFF)
    ).order_by("-created_at", "-id")
    head = last.annotate(head=Substr("text", 1, PREVIEW_CHARS + 1)).values("head")[:1]
    return rows.annotate(last_text=Subquery(head), last_at=Subquery(last.values("created_at")[:1]))


def _condition(key: str, user) -> Q:
    waiting = Q(status=Conversation.STATUS_WAITING)
    open_ = Q(status=Conversation.STATUS_OPEN)
    return {
        "all": waiting | open_ | Q(has_undelivered=True),
        "waiting": waiting,
        "mine": open_ & Q(assigned_to_id=user.pk),
        "open": open_,
        "closed": Q(status=Conversation.STATUS_BOT, staff_answered=True),
    }[key]


def inbox_list(*, account: OfficialAccount, user, key: str = DEFAULT_FILTER) -> QuerySet[Conversation]:
    """The conversations of one filter: waiting first (longest waiting first), then open ones (latest
    activity first); closed ones latest first. At most LIST_MAX."""
    if key not in FILTERS:
        key = DEFAULT_FILTER
    rows = with_last_text(_annotated(account).filter(_condition(key, user))).select_related("citizen", "assigned_to")
    if key == "closed":
        return rows.order_by("-last_message_at", "-id")[:LIST_MAX]
    rank = Case(
        When(status=Conversation.STATUS_WAITING, then=Value(0)),
        When(status=Conversation.STATUS_OPEN, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return rows.annotate(rank=rank).order_by("rank", "handoff_requested_at", "-last_message_at", "id")[:LIST_MAX]


def inbox_counts(*, account: OfficialAccount, user) -> dict[str, int]:
    """How many conversations each filter holds; one aggregate query."""
    return _annotated(account).aggregate(**{key: Count("id", filter=_condition(key, user)) for key in FILTERS})
