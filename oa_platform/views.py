"""Citizen-facing web: the home page, an account's page at /oa/<slug>/ and its small JSON endpoints.

The JSON endpoints are what the page's script calls (and its fallback when the WebSocket cannot connect):
same-origin, CSRF-protected, the citizen taken from the signed ``oa_cid`` cookie. Thin: parse, call one
service, render. Bad input gives a 4xx JSON error and stores nothing.
"""

from __future__ import annotations

import json
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.defaults import server_error

from oa_platform import live, web_identity, web_state
from oa_platform.conversations.engine import chat_rate_check, chat_receive, greeting_text, handoff_command
from oa_platform.conversations.handoff import handoff_withdraw
from oa_platform.conversations.text import clean_text
from oa_platform.errors import Conflict, DomainError, NotFound, RateLimited, ValidationFailed
from oa_platform.models import Follow, Message
from oa_platform.selectors import account_by_slug, accounts_public
from oa_platform.services import citizen_update_profile, follow_create, follow_remove, subscriptions_set

# Most areas one follow may pick on the page (a province or a few wards); bounds the request and the query.
MAX_AREAS = 20


def home(request):
    cid = web_identity.cid_from_request(request)
    citizen = web_identity.citizen_lookup(cid)
    followed = set()
    if citizen is not None:
        followed = set(Follow.objects.filter(citizen=citizen, is_active=True).values_list("account_id", flat=True))
    accounts = [{"account": a, "following": a.pk in followed} for a in accounts_public()]
    return render(request, "oa/home.html", {"accounts": accounts})


# The site icon, read once: browsers ask for /favicon.ico on every page whatever the page links.
FAVICON = Path(__file__).resolve().parent / "static" / "oa" / "favicon.svg"
FAVICON_MAX_AGE = 7 * 24 * 3600  # a week: the icon changes with a release, if ever


def favicon(request):
    response = HttpResponse(FAVICON.read_bytes(), content_type="image/svg+xml")
    response["Cache-Control"] = f"public, max-age={FAVICON_MAX_AGE}"
    return response


def healthz(request):
    return JsonResponse({"ok": True})


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _page_context(request) -> dict:
    """What the styled error pages need: the way back (the admin's index under /admin/, else the home page)."""
    return {"back_to_admin": request.path.startswith("/admin/")}


def bad_request(request, exception=None):
    """Django's 400 handler (``handler400``): a request Django refuses before any view runs, e.g. a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE (then 413) or too many form fields. JSON in the API's error shape for
    API, webhook and script clients; the styled 400.html page for a browser that asked for HTML."""
    too_large = isinstance(exception, RequestDataTooBig)
    status = 413 if too_large else 400
    if too_large:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        code, message = "too_large", _("The request is larger than %(limit)s MB.") % {"limit": limit}
    else:
        code, message = "bad_request", _("The request could not be read.")
    if "text/html" in request.headers.get("Accept", "") and not _is_api(request):
        context = {**_page_context(request), "status": status, "message": message}
        return render(request, "400.html", context, status=status)
    return _error(status, code, message)


def permission_denied_page(request, exception=None):
    """Django's 403 handler (``handler403``): JSON in the API's error shape under /api/, else the styled
    403.html (with the way back to the admin's index under /admin/)."""
    if _is_api(request):
        return _error(403, "forbidden", _("You do not have permission to do this."))
    return render(request, "403.html", {**_page_context(request), "exception": str(exception or "")}, status=403)


def not_found(request, exception=None):
    """Django's 404 handler (``handler404``) for an address no route matches. Under /api/ that is JSON in
    the API's error shape (e.g. a notice id that is not a number: /notices/-5/), as the schema says every
    API operation answers; elsewhere the styled 404.html."""
    if _is_api(request):
        return _error(404, "not_found", _("There is nothing at this address."))
    return render(request, "404.html", _page_context(request), status=404)


def server_error_page(request):
    """Django's 500 handler (``handler500``): JSON in the API's error shape under /api/, else Django's own
    handler, which renders 500.html with an empty context (no request, no database: whatever broke may be
    either)."""
    if _is_api(request):
        return _error(500, "server_error", _("Something went wrong on our side; try again later."))
    return server_error(request)


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


# --- the page  ---
def _script_strings() -> dict:
    """Texts the page's script shows, translated here so the script needs no catalogue."""
    return {
        "follow": _("Theo dõi"),
        "unfollow": _("Bỏ theo dõi"),
        "helpful": _("Câu trả lời có hữu ích không?"),
        "thanks": _("Cảm ơn bạn đã góp ý!"),
        "saved": _("Đã lưu."),
        "error": _("Có lỗi xảy ra, vui lòng thử lại."),
        "offline": _("Mất kết nối, đang kết nối lại…"),
        "fallback": _("Đang dùng chế độ dự phòng."),
        "tooMany": _("Bạn gửi quá nhanh, vui lòng đợi một chút."),
        "staff": _("Cán bộ"),
        "wholeProvince": _("— Cả tỉnh/thành phố —"),
        "followFirst": _("Hãy theo dõi tài khoản để chọn thông báo muốn nhận."),
        "current": _("Hiện tại:"),
        "yes": _("Có"),
        "no": _("Không"),
        "human": _("Gặp cán bộ"),
        "severity": {
            "extreme": _("Khẩn cấp"),
            "severe": _("Nghiêm trọng"),
            "moderate": _("Lưu ý"),
            "minor": _("Thông tin"),
        },
        "withdrawn": _("Đã thu hồi"),
        "waiting": _("Đang chờ cán bộ trả lời. Tin nhắn của bạn sẽ được chuyển đến cán bộ."),
        "withStaff": _("Cán bộ đang trò chuyện với bạn."),
        "backToBot": _("Quay lại trợ lý ảo"),
        # sent as the citizen's message, in the page's language: every account's intents understand it
        "humanCommand": handoff_command(translation.get_language()),
    }


@ensure_csrf_cookie
def account_page(request, slug: str):
    account = account_by_slug(slug)
    if account is None:
        raise Http404(_("Không tìm thấy tài khoản."))
    web_identity.cid_ensure(request)
    citizen = web_identity.citizen_lookup(web_identity.cid_from_request(request))
    messages = web_state.messages_for(account=account, citizen=citizen)
    notices = web_state.inbox(account=account, citizen=citizen)
    base = reverse("oa-page", kwargs={"slug": slug})
    boot = {
        "slug": account.slug,
        "ws": f"/ws/oa/{account.slug}/",
        "urls": {
            name: f"{base}{name}/"
            for name in (
                "messages",
                "history",
                "follow",
                "unfollow",
                "subscriptions",
                "profile",
                "feedback",
                "inbox",
                "areas",
                "handoff/withdraw",
            )
        },
        "messages": [web_state.message_json(m) for m in messages],
        "notices": notices,
        "state": web_state.follow_state(account=account, citizen=citizen),
        "conversation": web_state.conversation_status(account=account, citizen=citizen),
        "starters": web_state.starter_questions(account=account, language=translation.get_language()),
        "maxText": settings.CHAT_MAX_TEXT,
    }
    context = {
        "account": account,
        "boot": boot,
        "provinces": web_state.areas_under(None),
        "state": boot["state"],
        "welcome": greeting_text(account, translation.get_language()),
        "i18n": _script_strings(),
    }
    response = render(request, "oa/account.html", context)
    return web_identity.cid_persist(request, response)


# --- JSON endpoints  ---
def _error(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return JsonResponse({"error": body}, status=status)


def json_endpoint(*methods: str):
    """Resolve the account, allow only ``methods``, turn domain errors into JSON, keep the cookie."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, slug: str):
            if request.method not in methods:
                response = _error(405, "method_not_allowed", f"Use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            account = account_by_slug(slug)
            if account is None:
                return _error(404, "not_found", "Unknown account.")
            try:
                response = view(request, account)
            except DomainError as exc:
                response = JsonResponse(exc.as_dict(), status=exc.status)
                if isinstance(exc, RateLimited):
                    response["Retry-After"] = str(exc.retry_after)
            return web_identity.cid_persist(request, response)

        return wrapper

    return decorate


def _body(request) -> dict:
    if request.content_type != "application/json":
        raise ValidationFailed("Send JSON (Content-Type: application/json).", code="unsupported_media_type")
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: "[[[[…" nested too deep
        raise ValidationFailed("Malformed JSON.", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", code="malformed_json")
    try:
        # JSON may escape lone surrogates ("\\ud800"): valid JSON, but no database can store them.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationFailed("Malformed JSON: invalid Unicode (lone surrogate).", code="malformed_json") from exc
    return data


def _after(request, name: str = "after") -> int | None:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return None
    # isdigit() alone accepts "²" and other Unicode digits that int() refuses
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ValidationFailed(f"{name} must be a message id.", fields={name: raw[:20]})
    return int(raw)


def _code_list(data: dict, name: str, limit: int) -> list[str] | None:
    if name not in data:
        return None
    value = data[name]
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 60 for v in value):
        raise ValidationFailed(f"{name} must be a list of codes.", fields={name: "invalid"})
    if len(value) > limit:
        raise ValidationFailed(f"At most {limit} {name}.", fields={name: "too_many"})
    return value


def _refresh_sockets(account, citizen) -> None:
    """Open pages of this citizen reload their filter for live notices once the change is committed."""
    group = live.citizen_group(account.pk, citizen.pk)
    transaction.on_commit(lambda: live.group_send(group, {"type": "citizen.refresh"}))


def _state(account, citizen) -> dict:
    return web_state.follow_state(account=account, citizen=citizen)


@json_endpoint("POST")
def api_message(request, account):
    data = _body(request)
    if "text" not in data:
        raise ValidationFailed("text is required.", fields={"text": "required"})
    text = clean_text(data["text"])
    cid = web_identity.cid_ensure(request)
    chat_rate_check(ip=client_ip(request), citizen_key=f"{account.pk}:{cid}")
    citizen = web_identity.citizen_for_write(request)
    # The page's language: the citizen's choice (the language cookie), else the account's (locale_middleware).
    outcome = chat_receive(account=account, citizen=citizen, text=text, language=request.LANGUAGE_CODE)
    body = {"message": web_state.message_json(outcome.inbound), "reply": outcome.payload}
    if outcome.payload is None:
        body["conversation"] = {"status": outcome.inbound.conversation.status}
    return JsonResponse(body)


@json_endpoint("POST")
def api_handoff_withdraw(request, account):
    """ "Back to the assistant" while waiting for staff: the bot answers again."""
    citizen = web_identity.citizen_lookup(web_identity.cid_from_request(request))
    if citizen is None:
        raise Conflict(_("Cuộc trò chuyện không còn chờ cán bộ."), code="not_waiting")
    message = handoff_withdraw(account=account, citizen=citizen)
    return JsonResponse({"message": web_state.message_json(message), "conversation": {"status": "bot"}})


@json_endpoint("GET")
def api_history(request, account):
    after = _after(request)
    citizen = web_identity.citizen_lookup(web_identity.cid_from_request(request))
    limit = web_state.SYNC_LIMIT if after is not None else web_state.HISTORY_LIMIT
    messages = web_state.messages_for(account=account, citizen=citizen, after_id=after, limit=limit)
    return JsonResponse({"messages": [web_state.message_json(m) for m in messages], "more": len(messages) >= limit})


@json_endpoint("POST")
def api_follow(request, account):
    citizen = web_identity.citizen_for_write(request)
    follow_create(account=account, citizen=citizen, channel="web")
    _refresh_sockets(account, citizen)
    return JsonResponse(_state(account, citizen))


@json_endpoint("POST")
def api_unfollow(request, account):
    citizen = web_identity.citizen_lookup(web_identity.cid_from_request(request))
    if citizen is not None:
        follow_remove(account=account, citizen=citizen, channel="web")
        _refresh_sockets(account, citizen)
    return JsonResponse(_state(account, citizen))


@json_endpoint("GET", "POST")
def api_subscriptions(request, account):
    if request.method == "GET":
        citizen = web_identity.citizen_lookup(web_identity.cid_from_request(request))
        return JsonResponse(_state(account, citizen))
    data = _body(request)
    topics = _code_list(data, "topics", limit=100)
    areas = _code_list(data, "areas", limit=MAX_AREAS)
    if topics is None and areas is None:
        raise ValidationFailed("Send topics and/or areas.", fields={"topics": "required"})
    citizen = web_identity.citizen_lookup(web_identity.cid_from_request(request))
    follow = None
    if citizen is not None:
        follow = Follow.objects.filter(account=account, citizen=citizen, is_active=True).first()
    if follow is None:
        raise Conflict(_("Hãy theo dõi tài khoản trước khi chọn thông báo."), code="not_following")
    subscriptions_set(follow=follow, topic_keys=topics, area_codes=areas)
    _refresh_sockets(account, citizen)
    return JsonResponse(_state(account, citizen))


@json_endpoint("POST")
def api_profile(request, account):
    data = _body(request)
    language, phone = data.get("language"), data.get("phone")
    if language is None and phone is None:
        raise ValidationFailed("Send language and/or phone.", fields={"language": "required"})
    for name, value in (("language", language), ("phone", phone)):
        if value is not None and (not isinstance(value, str) or len(value) > 32):
            raise ValidationFailed(f"{name} must be a short string.", fields={name: "invalid"})
    if language is not None and language not in dict(settings.LANGUAGES):
        raise ValidationFailed("Unknown language.", fields={"language": language})
    if phone:
        # Validate before the citizen row exists so a bad number stores nothing.
        from oa_platform.phones import InvalidPhone, normalize_phone

        try:
            normalize_phone(phone)
        except InvalidPhone as exc:
            raise ValidationFailed(_("Số điện thoại không hợp lệ."), fields={"phone": str(exc)}) from exc
    with transaction.atomic():
        citizen = web_identity.citizen_for_write(request)
        citizen_update_profile(citizen=citizen, language=language, phone=phone)
    _refresh_sockets(account, citizen)
    response = JsonResponse(_state(account, citizen))
    if language is not None:
        # The page's language follows the citizen's choice, as Django's set_language view would set it.
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax"
        )
        translation.activate(language)
    return response


@json_endpoint("POST")
def api_feedback(request, account):
    data = _body(request)
    message_id, helpful = data.get("message_id"), data.get("helpful")
    if not isinstance(message_id, int) or isinstance(message_id, bool) or not isinstance(helpful, bool):
        raise ValidationFailed(
            "message_id (number) and helpful (true/false) are required.",
            fields={"message_id": "required", "helpful": "required"},
        )
    citizen = web_identity.citizen_lookup(web_identity.cid_from_request(request))
    message = None
    if citizen is not None:
        message = Message.objects.filter(
            pk=message_id,
            conversation__account=account,
            conversation__citizen=citizen,
            sender=Message.SENDER_BOT,
        ).first()
    if message is None:
        raise NotFound("No such answer in your conversation.", fields={"message_id": message_id})
    try:
        from faq.services import answer_feedback
    except ImportError:
        # TODO(faq): answer_feedback is written by the FAQ engineer; until it lands feedback is refused openly.
        return _error(501, "not_available", "Feedback is not available yet.")
    answer_feedback(account=account, message=message, helpful=helpful)
    return JsonResponse({"ok": True, "message_id": message.pk, "helpful": helpful})


@json_endpoint("GET")
def api_inbox(request, account):
    after = _after(request)
    citizen = web_identity.citizen_lookup(web_identity.cid_from_request(request))
    return JsonResponse({"notices": web_state.inbox(account=account, citizen=citizen, after_id=after)})


@json_endpoint("GET")
def api_areas(request, account):
    parent = request.GET.get("parent") or None
    if parent is not None and (len(parent) > 20 or "\x00" in parent):  # PostgreSQL refuses NUL in a query
        raise ValidationFailed("Unknown area.", fields={"parent": parent[:20]})
    areas = web_state.areas_under(parent)
    if areas is None:
        raise NotFound("Unknown area.", fields={"parent": parent})
    return JsonResponse({"areas": areas})


def csrf_failure(request, reason: str = ""):
    """CSRF refusals: JSON for the page's JSON endpoints and APIs, Django's page for forms."""
    if request.path.startswith(("/oa/", "/api/", "/webhooks/")) or "json" in request.headers.get("Accept", ""):
        return _error(403, "csrf_failed", "CSRF check failed; reload the page and try again.")
    from django.views.csrf import csrf_failure as default_failure

    return default_failure(request, reason=reason)
