"""Inbox: the conversation list by filter and one conversation beside it (on a phone: the list OR the
conversation, with a link back). Live updates: /ws/staff/<slug>/ tells the page what changed
(staff_consumers); the page then reads conversations.json and messages.json, which carry the same translated
labels and the same allowed buttons (labels.conversation_actions) as the page. The actions (take, reply,
close, retry, saved replies) stay in oa_platform.staff_views."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from oa_platform.console import labels
from oa_platform.console.access import console_view
from oa_platform.console.inbox_selectors import DEFAULT_FILTER, FILTERS, inbox_counts, inbox_list
from oa_platform.conversations import handoff
from oa_platform.errors import DomainError
from oa_platform.models import Conversation, Message
from oa_platform.phones import mask_phones_in_text

FILTER_LABELS = {
    "all": _("Cần xử lý"),
    "waiting": _("Đang chờ"),
    "mine": _("Của tôi"),
    "open": _("Đang xử lý"),
    "closed": _("Đã kết thúc"),
}


def _filter_key(request) -> str:
    key = request.GET.get("f", DEFAULT_FILTER)
    return key if key in FILTERS else DEFAULT_FILTER


def conversation_row(conversation: Conversation, *, account, user, now) -> dict:
    """One conversation as the list and conversations.json show it: labels, never codes or channel ids."""
    citizen = conversation.citizen
    preview = getattr(conversation, "last_text", None) or ""
    if len(preview) > labels.PREVIEW_CHARS:
        preview = preview[: labels.PREVIEW_CHARS].rstrip() + "…"
    waiting = conversation.status == Conversation.STATUS_WAITING
    preview_at = getattr(conversation, "last_at", None) or conversation.last_message_at
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "status_label": labels.status_label(conversation.status),
        "citizen": labels.citizen_label(citizen),
        "channel": citizen.channel,
        "channel_label": labels.channel_label(citizen.channel),
        "phone": citizen.masked_phone,
        "assigned_to": conversation.assigned_to.get_username() if conversation.assigned_to else None,
        "assigned_to_me": conversation.assigned_to_id == user.pk,
        "handoff_requested_at": conversation.handoff_requested_at.isoformat()
        if conversation.handoff_requested_at
        else None,
        "waited": labels.waited(conversation.handoff_requested_at or conversation.last_message_at, now=now)
        if waiting
        else "",
        "last_message_at": conversation.last_message_at.isoformat(),
        "preview_at": preview_at.isoformat(),
        "last_message_time": labels.local_time(preview_at, account, now=now),
        "last_message": mask_phones_in_text(preview),
        "undelivered": bool(getattr(conversation, "has_undelivered", False)),
        "actions": labels.conversation_actions(conversation, user),
    }


def message_row(message: Message, *, account, now) -> dict:
    failed = message.delivery_status == Message.DELIVERY_FAILED or (
        message.delivery_status == Message.DELIVERY_QUEUED and message.delivery_attempts > 0
    )
    return {
        "id": message.pk,
        "direction": message.direction,
        "sender": message.sender,
        "sender_label": labels.sender_label(message),
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "time": labels.local_time(message.created_at, account, now=now),
        "author": message.author.get_username() if message.author else None,
        "delivery_status": message.delivery_status,
        "delivery_attempts": message.delivery_attempts,
        "delivery_error": message.delivery_error,
        "undelivered": failed,
        "delivery_label": str(labels.DELIVERY_LABELS.get(message.delivery_status, "")) if failed else "",
    }


def _list_context(request, account, key, now) -> dict:
    rows = [
        conversation_row(c, account=account, user=request.user, now=now)
        for c in inbox_list(account=account, user=request.user, key=key)
    ]
    counts = inbox_counts(account=account, user=request.user)
    return {
        "rows": rows,
        "filter": key,
        "filters": [{"key": k, "label": FILTER_LABELS[k], "count": counts[k]} for k in FILTERS],
    }


@console_view()
@require_GET
def inbox(request, slug: str, pk: int | None = None):
    account, now = request.account, timezone.now()
    key = _filter_key(request)
    current = None
    if pk is not None:
        try:
            current = handoff.inbox_conversation(account=account, pk=pk)
        except DomainError as exc:
            return JsonResponse(exc.as_dict(), status=exc.status)
    context = {
        "account": account,
        "zone": labels.zone_name(account, now=now),
        **_list_context(request, account, key, now),
        "current": current,
    }
    if current is not None:
        context |= {
            "row": conversation_row(current, account=account, user=request.user, now=now),
            "history": [message_row(m, account=account, now=now) for m in handoff.inbox_messages(conversation=current)],
            "canned": handoff.canned_replies(account=account),
        }
    context["saved_replies"] = handoff.saved_replies(account=account)
    return render(request, "staff/inbox.html", context)


@console_view()
@require_GET
def conversations_json(request, slug: str):
    account, now = request.account, timezone.now()
    key = _filter_key(request)
    context = {"account": account, **_list_context(request, account, key, now)}
    current = request.GET.get("current", "")
    context["current_id"] = int(current) if current.isdigit() else None
    return JsonResponse(
        {
            "conversations": context["rows"],
            "counts": {f["key"]: f["count"] for f in context["filters"]},
            "html": render_to_string("staff/inbox_list.html", context, request=request),
        }
    )


@console_view()
@require_GET
def messages_json(request, slug: str, pk: int):
    account, now = request.account, timezone.now()
    try:
        conversation = handoff.inbox_conversation(account=account, pk=pk)
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    history = [message_row(m, account=account, now=now) for m in handoff.inbox_messages(conversation=conversation)]
    return JsonResponse(
        {
            "conversation": conversation_row(conversation, account=account, user=request.user, now=now),
            "messages": history,
        }
    )
