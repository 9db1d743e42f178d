"""The personal link of a form's message: /f/<slug>/<id>/p/<token>/. The browser that opens it (its web
identity) answers this account's forms as the person the message was sent to, then goes to the ordinary form
page, which works offline as before. A link that was tampered with, has expired or belongs to another form goes
to the form page all the same: the person can still answer, as this browser."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from oa_platform import web_identity
from oa_platform.collect.link_tokens import link_read
from oa_platform.collect.models import AnswerLink, Form
from oa_platform.models import Citizen
from oa_platform.selectors import account_by_slug


@require_GET
def personal_link(request, slug: str, pk: int, token: str):
    account = account_by_slug(slug)
    form = Form.objects.filter(account=account, pk=pk).first() if account is not None else None
    if form is None:
        raise Http404(_("Không tìm thấy biểu mẫu."))
    citizen_id = link_read(token, form_id=form.pk)
    person = Citizen.objects.filter(pk=citizen_id, account=account).first() if citizen_id else None
    response = redirect("collect-form-page", slug=slug, pk=pk)
    if person is not None:
        with transaction.atomic():
            browser = web_identity.citizen_for_write(request)
            AnswerLink.objects.update_or_create(account=account, web_citizen=browser, defaults={"citizen": person})
    response["Cache-Control"] = "no-store"  # a personal address: never kept by a shared cache
    return web_identity.cid_persist(request, response)
