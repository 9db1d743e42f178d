"""Staff inbox actions (take, reply, close, retry, saved replies) and the console's account chooser, behind
the staff login, scoped to the user's accounts; the pages themselves are in oa_platform.console (today,
inbox). Every request checks again that the user is active staff (staff_member_required: otherwise
the staff login) and a member of the account (else 404), so removing either closes the inbox at the next
request. Thin: each view resolves the account through conversation_selectors.staff_account (404 outside the user's
accounts) and calls one service or selector. Live updates come over /ws/staff/<slug>/ (staff_consumers)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.admin.views.decorators import staff_member_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from oa_platform.console.inbox import conversation_row, message_row
from oa_platform.conversations import handoff
from oa_platform.conversations import selectors as conversation_selectors
from oa_platform.errors import DomainError
from oa_platform.models import Message
from oa_platform.selectors import accounts_for_user


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _error(request, exc: DomainError, slug: str, pk: int | None = None):
    if _wants_json(request):
        return JsonResponse(exc.as_dict(), status=exc.status)
    if exc.status == 404:
        return JsonResponse(exc.as_dict(), status=404)
    flash.error(request, str(exc.message))
    return redirect("staff:conversation", slug=slug, pk=pk) if pk else redirect("staff:inbox", slug=slug)


def _conversation_json(request, conversation) -> dict:
    """The conversation as the inbox's list shows it (console.inbox.conversation_row: one shape everywhere)."""
    return conversation_row(conversation, account=conversation.account, user=request.user, now=timezone.now())


def _message_json(message: Message) -> dict:
    return message_row(message, account=message.conversation.account, now=timezone.now())


@staff_member_required
@require_GET
def home(request):
    accounts = list(accounts_for_user(request.user))
    if len(accounts) == 1:
        return redirect("staff:today", slug=accounts[0].slug)
    return render(request, "staff/home.html", {"accounts": accounts})


def _act(request, slug: str, pk: int, action):
    try:
        account = conversation_selectors.staff_account(user=request.user, slug=slug)
        conversation = conversation_selectors.inbox_conversation(account=account, pk=pk)
        result = action(conversation)
    except DomainError as exc:
        return _error(request, exc, slug, pk)
    if _wants_json(request):
        return JsonResponse(result)
    page = reverse("staff:conversation", kwargs={"slug": slug, "pk": pk})
    back = request.POST.get("next", "")
    # back to the same conversation with the list's filter kept; never anywhere else
    return redirect(back if back.startswith(page + "?") else page)


@staff_member_required
@require_POST
def assign(request, slug: str, pk: int):
    def action(conversation):
        return {
            "conversation": _conversation_json(
                request, handoff.conversation_assign(conversation=conversation, user=request.user)
            )
        }

    return _act(request, slug, pk, action)


@staff_member_required
@require_POST
def reply(request, slug: str, pk: int):
    def action(conversation):
        message = handoff.conversation_reply(
            conversation=conversation, user=request.user, text=request.POST.get("text")
        )
        return {"message": _message_json(message)}

    return _act(request, slug, pk, action)


@staff_member_required
@require_POST
def close(request, slug: str, pk: int):
    def action(conversation):
        return {
            "conversation": _conversation_json(
                request, handoff.conversation_close(conversation=conversation, user=request.user)
            )
        }

    return _act(request, slug, pk, action)


@staff_member_required
@require_POST
def retry(request, slug: str, pk: int):
    try:
        account = conversation_selectors.staff_account(user=request.user, slug=slug)
        message = Message.objects.select_related("conversation").filter(conversation__account=account, pk=pk).first()
        if message is None:
            return JsonResponse({"error": {"code": "not_found", "message": "No such message."}}, status=404)
        message = handoff.message_retry(message=message, user=request.user)
    except DomainError as exc:
        return _error(request, exc, slug)
    if _wants_json(request):
        return JsonResponse({"message": _message_json(message)})
    return redirect("staff:conversation", slug=slug, pk=message.conversation_id)


def _back(request, slug: str):
    back = request.POST.get("next", "")
    if back.startswith(f"/staff/{slug}/"):  # only back into this inbox, never an open redirect
        return redirect(back)
    return redirect("staff:inbox", slug=slug)


@staff_member_required
@require_POST
def saved_reply_add(request, slug: str):
    try:
        account = conversation_selectors.staff_account(user=request.user, slug=slug)
        reply = handoff.saved_reply_create(
            account=account, user=request.user, title=request.POST.get("title"), text=request.POST.get("text")
        )
    except DomainError as exc:
        return _error(request, exc, slug)
    if _wants_json(request):
        return JsonResponse({"saved_reply": {"id": reply.pk, "title": reply.title, "text": reply.text}}, status=201)
    return _back(request, slug)


@staff_member_required
@require_POST
def saved_reply_remove(request, slug: str, pk: int):
    try:
        account = conversation_selectors.staff_account(user=request.user, slug=slug)
        handoff.saved_reply_delete(account=account, user=request.user, pk=pk)
    except DomainError as exc:
        return _error(request, exc, slug)
    if _wants_json(request):
        return JsonResponse({"deleted": pk})
    return _back(request, slug)
