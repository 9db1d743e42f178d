"""The web form page /f/<slug>/<id>/ (phone first, works offline) and what its script calls: the JSON submit
endpoint and the service worker. The citizen is this browser's web identity (oa_platform.web_identity)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oa_platform import ratelimit, web_identity
from oa_platform.collect import services
from oa_platform.collect.models import Form, Response, option_label
from oa_platform.errors import DomainError, RateLimited, ValidationFailed
from oa_platform.web_state import areas_under

SERVICE_WORKER = Path(__file__).resolve().parents[1] / "static" / "oa" / "collect_sw.js"


def _form_or_404(slug: str, pk: int) -> Form:
    # One query: the form of this id under the active account of this slug (another account's id is not found).
    form = Form.objects.filter(account__slug=slug, account__is_active=True, pk=pk).select_related("account").first()
    if form is None:
        raise Http404(_("Không tìm thấy biểu mẫu."))
    return form


def _question_context(question, language: str) -> dict:
    return {
        "key": question.key,
        "type": question.type,
        "required": question.required,
        "label": question.label(language),
        "help": question.help(language),
        "options": [{"key": o["key"], "label": option_label(o, language)} for o in question.options],
        "min": question.min_value,
        "max": question.max_value,
    }


@require_GET
def form_page(request, slug: str, pk: int):
    form = _form_or_404(slug, pk)
    language = translation.get_language() or "vi"
    web_identity.cid_ensure(request)  # the cookie exists before the phone goes offline
    round_ = services.current_round(form)
    context = {
        "account": form.account,
        "form": form,
        "title": form.title(language),
        "questions": [_question_context(q, language) for q in form.questions.all()],
        "is_open": round_ is not None and (round_.is_open() or form.late_policy == Form.LATE_ACCEPT),
        "provinces": areas_under(None) if form.questions.filter(type="area").exists() else [],
        "submit_url": reverse("collect-form-submit", kwargs={"slug": slug, "pk": pk}),
        "areas_url": reverse("oa-areas", kwargs={"slug": slug}),
        "sw_url": reverse("collect-service-worker"),
    }
    response = render(request, "collect/form.html", context)
    return web_identity.cid_persist(request, response)


def _json_error(exc: DomainError) -> JsonResponse:
    response = JsonResponse(exc.as_dict(), status=exc.status)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _submit_rate_check(request) -> None:
    """Flood control of the submit endpoint through the one rate limiter: per client IP and per browser (its web
    identity; none yet: the IP alone), settings.COLLECT_RATE_IP / COLLECT_RATE_CITIZEN. Raises RateLimited."""
    checks = [(f"collect:ip:{request.META.get('REMOTE_ADDR', '')}", settings.COLLECT_RATE_IP)]
    cid = web_identity.cid_from_request(request)
    if cid:
        checks.append((f"collect:cz:{cid}", settings.COLLECT_RATE_CITIZEN))
    wait = ratelimit.try_take(*((key, count / window, count) for key, (count, window) in checks))
    if wait > 0:
        raise RateLimited(_("Too many submissions; please wait a moment."), retry_after=max(1, math.ceil(wait)))


@require_POST
def form_submit(request, slug: str, pk: int):
    """{"client_id": uuid, "answers": {...}} -> 201 (stored) or 200 (this client id was stored before); 429 with
    Retry-After when this browser or its IP sends too many (the page keeps the answers and sends them later)."""
    form = _form_or_404(slug, pk)
    try:
        _submit_rate_check(request)
    except RateLimited as exc:
        return _json_error(exc)
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return _json_error(ValidationFailed(_("The request could not be read.")))
    if not isinstance(body, dict) or not isinstance(body.get("client_id"), str):
        return _json_error(ValidationFailed(_("Invalid input."), fields={"client_id": _("Must be a UUID.")}))
    try:
        with transaction.atomic():  # a refused submission leaves no new citizen behind
            citizen, created = web_identity.citizen_get_or_create_for_write(request)
            result = services.response_submit(
                form=form,
                citizen=citizen,
                client_id=body["client_id"],
                answers=body.get("answers"),
                channel=Response.CHANNEL_WEB,
                citizen_created=created,
            )
    except DomainError as exc:
        return _json_error(exc)
    code = 201 if result.status == "created" else 200
    body = {"id": result.response.pk, "status": result.status, "late": result.response.is_late}
    return web_identity.cid_persist(request, JsonResponse(body, status=code))


@require_GET
def service_worker(request):
    """The service worker, served under /f/ so that it may control the form pages (a worker's scope is its
    own folder at most)."""
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    return response
