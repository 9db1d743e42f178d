"""Staff console pages of personal notices: the templates and lists of the account, uploading a list, its
report (rows checked, first messages as citizens will see them, the plan and its cost), submit with a severity,
a sending time and an expiry (broadcasts.personal.forms), approval by another person of what the page shows,
cancel and progress. Thin: parse, call one service, render. Phones are shown masked, in full
only to the list's author and approver (selectors.sees_full_phones)."""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from broadcasts.models import Notice
from broadcasts.personal import lists, recipients, selectors, services
from broadcasts.personal.forms import FIELD_INPUTS, ListSendForm
from broadcasts.personal.models import ListRow, RecipientList, TemplateVersion
from broadcasts.personal.rendering import placeholders, sms_length
from broadcasts.services import Actor
from oa_platform.console.access import APPROVERS, SENDERS, console_view
from oa_platform.console.notice_forms import SEVERITY_LABELS, format_local, zone_label
from oa_platform.errors import DomainError
from oa_platform.phones import mask_phone

# Rows with a problem shown on the report page (all of them are in the CSV export).
PROBLEM_ROWS_SHOWN = 50


def _list(request, pk: int) -> RecipientList:
    found = (
        lists.lists_for_account(account=request.account)
        .select_related("author_token", "approver_token")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("No such list.")
    return found


def _phone_shown(request, recipient_list: RecipientList):
    """How this staff member sees the list's phones: in full for its author and approver, masked for others."""
    full = selectors.sees_full_phones(item=recipient_list, user=request.user)
    return (lambda phone: phone) if full else mask_phone


@console_view(SENDERS)
@require_http_methods(["GET", "POST"])
def personal_home(request, slug: str):
    account = request.account
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Chọn một tệp CSV hoặc XLSX."))
            return redirect("staff:personal", slug=slug)
        try:
            checked = lists.list_upload(
                account=account,
                actor=Actor(user=request.user),
                template_key=request.POST.get("template", ""),
                fileobj=upload,
                file_name=upload.name,
                max_bytes=settings.MAX_UPLOAD_BYTES,
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("staff:personal", slug=slug)
        return redirect("staff:personal-list", slug=slug, pk=checked.pk)
    templates = []
    for template in selectors.templates_for_account(account=account).prefetch_related("versions"):
        versions = list(template.versions.all())
        approved = next((v for v in versions if v.status == TemplateVersion.STATUS_APPROVED), None)
        newest = versions[0] if versions else None
        shown = approved or newest
        templates.append(
            {
                "template": template,
                "approved": approved,
                "pending": newest if newest and newest.status == TemplateVersion.STATUS_PENDING else None,
                "placeholders": placeholders(shown.body_vi, shown.sms_text) if shown else [],
                "sms": sms_length(shown.sms_text or shown.body_vi) if shown else None,
            }
        )
    context = {
        "account": account,
        "templates": templates,
        "usable": [t for t in templates if t["approved"]],
        "lists": lists.lists_for_account(account=account)[:20],
        "max_mb": settings.MAX_UPLOAD_BYTES // (1024 * 1024),
        "can_approve": request.role in (*APPROVERS, "manager"),
    }
    return render(request, "staff/personal/home.html", context)


TEMPLATE_FIELDS = ("key", "name", "body_vi", "body_en", "body_zh", "sms_text", "link")


@console_view(SENDERS)
@require_http_methods(["GET", "POST"])
def personal_template_new(request, slug: str):
    """A new template (or a new version of the template with that key): saved waiting for another person."""
    values = {key: request.POST.get(key, "").strip() for key in TEMPLATE_FIELDS}
    errors = {}
    if request.method == "POST":
        if not slugify_ok(values["key"]):
            errors["key"] = _("Chỉ chữ không dấu, số, gạch ngang.")
        else:
            try:
                services.template_save(account=request.account, actor=Actor(user=request.user), **values)
            except DomainError as exc:
                errors = {k: str(v) for k, v in exc.fields.items()} or {"": str(exc.message)}
            else:
                messages.success(request, _("Đã lưu: chờ một người khác duyệt."))
                return redirect("staff:personal", slug=slug)
    context = {"account": request.account, "values": values, "errors": errors}
    return render(request, "staff/personal/template_form.html", context, status=400 if errors else 200)


def slugify_ok(key: str) -> bool:
    return bool(key) and len(key) <= 60 and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)


@console_view(APPROVERS)
@require_POST
def personal_template_approve(request, slug: str, key: str):
    template = selectors.template_by_key(account=request.account, key=key)
    if template is None:
        raise Http404("No such template.")
    try:
        services.template_approve(template=template, actor=Actor(user=request.user))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Đã duyệt mẫu."))
    return redirect("staff:personal", slug=slug)


@console_view(SENDERS)
@require_GET
def personal_list(request, slug: str, pk: int):
    recipient_list = _list(request, pk)
    form = ListSendForm(tz=request.account.tzinfo)
    return render(request, "staff/personal/list.html", _list_context(request, recipient_list, form))


def _list_context(request, recipient_list: RecipientList, form: ListSendForm) -> dict:
    shown = _phone_shown(request, recipient_list)
    tz = request.account.tzinfo
    bad_rows = [
        {"number": row.number, "phone": shown(row.e164_phone), "problems": row.problems}
        for row in recipient_list.rows.filter(problems__isnull=False).order_by("number")[:PROBLEM_ROWS_SHOWN]
    ]
    preview = [
        {"number": p["row"].number, "phone": shown(p["row"].e164_phone), "channel": p["channel"], "text": p["text"]}
        for p in lists.list_preview(recipient_list=recipient_list)
    ]
    return {
        "account": request.account,
        "list": recipient_list,
        "bad_rows": bad_rows,
        "preview": preview,
        "progress": lists.list_progress(recipient_list=recipient_list),
        "can_approve": request.role in (*APPROVERS, "manager"),
        "live": recipient_list.status == RecipientList.STATUS_SENDING,
        "form": form,
        "severity_label": SEVERITY_LABELS[recipient_list.severity],
        "urgent": recipient_list.severity in Notice.URGENT_SEVERITIES,
        "send_at": format_local(recipient_list.send_at, tz) if recipient_list.send_at else _("Ngay khi được duyệt"),
        "expires_at": format_local(recipient_list.expires_at, tz) if recipient_list.expires_at else _("Không hết hạn"),
        "zone": zone_label(tz),
        "now_local": format_local(timezone.now(), tz, with_zone=False),
        "max_days": lists.MAX_SCHEDULE_AHEAD.days,
    }


def _act(request, slug: str, pk: int, action, done: str):
    recipient_list = _list(request, pk)
    try:
        action(recipient_list)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, done)
    return redirect("staff:personal-list", slug=slug, pk=pk)


@console_view(SENDERS)
@require_POST
def personal_submit(request, slug: str, pk: int):
    """Submit with the severity, sending time and expiry chosen on the list page. A bad choice shows the page
    again (400) with the message at its input; nothing is stored."""
    recipient_list = _list(request, pk)
    form = ListSendForm(request.POST, tz=request.account.tzinfo)
    if form.is_valid():
        data = form.cleaned_data
        try:
            lists.list_submit(
                recipient_list=recipient_list,
                actor=Actor(user=request.user),
                skip_invalid=data["skip_invalid"],
                severity=data["severity"],
                send_at=data["send_at"],
                expires_at=data["expires_at"],
            )
        except DomainError as exc:
            if not exc.fields:
                messages.error(request, str(exc.message))
                return redirect("staff:personal-list", slug=slug, pk=pk)
            for key, message in exc.fields.items():
                form.add_error(FIELD_INPUTS.get(key), str(message))
        else:
            messages.success(request, _("Đã gửi để duyệt."))
            return redirect("staff:personal-list", slug=slug, pk=pk)
    recipient_list.refresh_from_db()
    return render(request, "staff/personal/list.html", _list_context(request, recipient_list, form), status=400)


@console_view(APPROVERS)
@require_POST
def personal_approve(request, slug: str, pk: int):
    return _act(
        request,
        slug,
        pk,
        lambda rl: lists.list_approve(recipient_list=rl, actor=Actor(user=request.user)),
        _("Đã duyệt: đang gửi."),
    )


@console_view(SENDERS)
@require_POST
def personal_cancel(request, slug: str, pk: int):
    return _act(
        request,
        slug,
        pk,
        lambda rl: lists.list_cancel(recipient_list=rl, actor=Actor(user=request.user)),
        _("Đã hủy."),
    )


class _Echo:
    def write(self, value):
        return value


@console_view(SENDERS)
@require_GET
def personal_report(request, slug: str, pk: int):
    """The row report as CSV: phones masked (in full for the list's author and approver), every cell that a
    spreadsheet would run as a formula prefixed."""
    recipient_list = _list(request, pk)
    shown = _phone_shown(request, recipient_list)
    names = recipient_list.columns
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow(["row", "phone", "citizen_id", *names, "channel", "problems"])
        rows = ListRow.objects.filter(recipient_list=recipient_list).order_by("number")
        for row in rows.iterator(chunk_size=2000):
            values = row.values(names)
            cells = [row.number, shown(row.e164_phone), row.citizen_ref, *(values.get(n, "") for n in names)]
            cells += [row.channel, " ".join(row.problems or [])]
            yield writer.writerow([recipients.safe_cell(str(c)) for c in cells])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="list-{recipient_list.pk}-report.csv"'
    return response
