"""Console section "Notices" (``staff:notices``): list by state, compose in steps (content -> audience ->
schedule -> check and submit, saved as a draft between steps), approve or send back (another person only),
live progress with a per-channel chart, cancel, correct or withdraw, and the CAP export.

Thin views: every write is one call into ``broadcasts.services`` (which guards roles, statuses and the
two-person rule itself); reads come from ``broadcasts.selectors``. The audience count is the dispatcher's own
query (``broadcasts.fanout.audience_preview``, read only) run on the draft, or on an unsaved copy of it with
the choices of the page for the live count."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages as flash
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from broadcasts import selectors, services
from broadcasts.cap import cap_export
from broadcasts.fanout import audience_preview
from broadcasts.models import BroadcastSettings, Delivery, Notice
from oa_platform.areas import ascii_fold
from oa_platform.collation import vietnamese_key
from oa_platform.console.access import APPROVERS, SENDERS, console_view, role_allows
from oa_platform.console.notice_forms import (
    DATE_FORMAT,
    SEVERITY_HINTS,
    SEVERITY_LABELS,
    TIME_FORMAT,
    ContentForm,
    ScheduleForm,
    format_local,
    zone_label,
)
from oa_platform.errors import DomainError, ValidationFailed
from oa_platform.models import Area, Topic
from oa_platform.web_state import areas_under

LIST_MAX = 100  # rows per state tab; older notices stay in the admin's full list
SEARCH_MIN = 2  # characters before an area search runs
SEARCH_MAX = 50  # areas shown for one search

STATE_GROUPS = {
    "drafts": (Notice.STATUS_DRAFT,),
    "pending": (Notice.STATUS_PENDING,),
    "scheduled": (Notice.STATUS_SCHEDULED,),
    "sending": (Notice.STATUS_SENDING,),
    "sent": (Notice.STATUS_SENT, Notice.STATUS_EXPIRED),
    "cancelled": (Notice.STATUS_CANCELLED,),
}
STATE_GROUP_LABELS = {
    "drafts": gettext_lazy("Bản nháp"),
    "pending": gettext_lazy("Chờ duyệt"),
    "scheduled": gettext_lazy("Đã lên lịch"),
    "sending": gettext_lazy("Đang gửi"),
    "sent": gettext_lazy("Đã gửi"),
    "cancelled": gettext_lazy("Đã hủy"),
}
STATUS_LABELS = {
    Notice.STATUS_DRAFT: gettext_lazy("Bản nháp"),
    Notice.STATUS_PENDING: gettext_lazy("Chờ duyệt"),
    Notice.STATUS_SCHEDULED: gettext_lazy("Đã lên lịch"),
    Notice.STATUS_SENDING: gettext_lazy("Đang gửi"),
    Notice.STATUS_SENT: gettext_lazy("Đã gửi"),
    Notice.STATUS_CANCELLED: gettext_lazy("Đã hủy"),
    Notice.STATUS_EXPIRED: gettext_lazy("Hết hạn"),
}
KIND_LABELS = {
    Notice.KIND_ALERT: gettext_lazy("Thông báo"),
    Notice.KIND_UPDATE: gettext_lazy("Đính chính"),
    Notice.KIND_CANCEL: gettext_lazy("Thu hồi"),
}
CHANNEL_LABELS = {
    Delivery.CHANNEL_INAPP: gettext_lazy("Trong ứng dụng"),
    "zalo": "Zalo OA",
    "wechat": "WeChat",
    "zns": "Zalo ZNS",
    "sms": "SMS",
    "webhook": gettext_lazy("Hệ thống khác (webhook)"),
}
LANGUAGE_LABELS = {
    "vi": gettext_lazy("Tiếng Việt"),
    "en": gettext_lazy("Tiếng Anh"),
    "zh-hans": gettext_lazy("Tiếng Trung"),
}
DELIVERY_LABELS = {
    Delivery.STATUS_QUEUED: gettext_lazy("Đang chờ"),
    Delivery.STATUS_SENDING: gettext_lazy("Đang gửi"),
    Delivery.STATUS_UNKNOWN: gettext_lazy("Không rõ"),
    Delivery.STATUS_SENT: gettext_lazy("Đã gửi"),
    Delivery.STATUS_DELIVERED: gettext_lazy("Đã nhận"),
    Delivery.STATUS_READ: gettext_lazy("Đã đọc"),
    Delivery.STATUS_FAILED: gettext_lazy("Thất bại"),
    Delivery.STATUS_SKIPPED: gettext_lazy("Bỏ qua"),
}
# Chart colours per delivery status (fill attributes of the inline SVG; contrast checked against white).
STATUS_COLOURS = {
    Delivery.STATUS_READ: "#0b5cad",
    Delivery.STATUS_DELIVERED: "#137a3a",
    Delivery.STATUS_SENT: "#4f9d69",
    Delivery.STATUS_SENDING: "#e0a100",
    Delivery.STATUS_QUEUED: "#b7c2cf",
    Delivery.STATUS_UNKNOWN: "#8a6d3b",
    Delivery.STATUS_FAILED: "#b71c1c",
    Delivery.STATUS_SKIPPED: "#5b6675",
}
STEPS = (
    ("content", gettext_lazy("Nội dung")),
    ("audience", gettext_lazy("Người nhận")),
    ("schedule", gettext_lazy("Thời gian gửi")),
    ("check", gettext_lazy("Kiểm tra và gửi")),
)


def _actor(request) -> services.Actor:
    return services.Actor(user=request.user)


def _notice(request, pk: int) -> Notice:
    notice = selectors.notices_for_account(account=request.account).filter(pk=pk).first()
    if notice is None:
        raise Http404("No such notice.")
    return notice


def _language() -> str:
    return translation.get_language() or "vi"


def _field_errors(form, exc: DomainError) -> None:
    """A service's refusal shown on the fields it names (or above the form)."""
    placed = False
    for key, message in (exc.fields or {}).items():
        if key in form.fields:
            form.add_error(key, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


def _step_url(notice: Notice, step: str) -> str:
    return reverse(f"staff:notice-{step}", args=[notice.account.slug, notice.pk])


def _next_url(request, notice: Notice, step: str) -> str:
    """After a step: back to "check" when the person came from there ("change" links), else the next step."""
    if request.GET.get("from") == "check":
        return _step_url(notice, "check")
    order = [name for name, _label in STEPS]
    return _step_url(notice, order[order.index(step) + 1])


def _editable(request, notice: Notice):
    """None when the notice is a draft; otherwise a redirect to its page (only drafts are edited)."""
    if notice.status == Notice.STATUS_DRAFT:
        return None
    flash.info(
        request,
        _("Chỉ sửa được bản nháp. Thông báo này đang ở trạng thái: %(status)s.")
        % {"status": STATUS_LABELS[notice.status]},
    )
    return redirect("staff:notice", slug=notice.account.slug, pk=notice.pk)


def _compose_context(request, notice: Notice | None, step: str, **extra) -> dict:
    order = [name for name, _label in STEPS]
    steps = [
        {
            "name": name,
            "label": label,
            "number": i + 1,
            "current": name == step,
            "done": order.index(name) < order.index(step),
            "url": _step_url(notice, name) if notice is not None and name != step else "",
        }
        for i, (name, label) in enumerate(STEPS)
    ]
    return {
        "account": request.account,
        "notice": notice,
        "steps": steps,
        "step": step,
        "step_number": order.index(step) + 1,
        "from_check": request.GET.get("from") == "check",
        **extra,
    }


# --- labels and summaries -------------------------------------------------------------------------------
def topic_choices(account) -> list[tuple[str, str]]:
    language = _language()
    return [(t.key, t.label(language)) for t in Topic.objects.filter(account=account)]


def area_label(area: Area, names: dict[str, str]) -> str:
    parent = area.path.split("/")[0] if "/" in area.path else None
    return f"{area.name} — {names[parent]}" if parent and parent in names else area.name


def areas_labelled(codes) -> list[dict]:
    areas = list(Area.objects.filter(code__in=list(codes)))
    parents = {a.path.split("/")[0] for a in areas if "/" in a.path}
    names = dict(Area.objects.filter(code__in=parents).values_list("code", "name"))
    rows = [{"code": a.code, "name": area_label(a, names), "fold": ascii_fold(a.name)} for a in areas]
    return sorted(rows, key=lambda row: vietnamese_key(row["name"]))


def audience_summary(notice: Notice) -> dict:
    """How many citizens the notice reaches now, by channel and language, with translated labels."""
    counts = audience_preview(notice)
    return {
        "total": counts["total"],
        "by_channel": [
            {"code": code, "label": str(CHANNEL_LABELS.get(code, code)), "count": n}
            for code, n in sorted(counts["by_channel"].items())
        ],
        "by_language": [
            {"code": code, "label": str(LANGUAGE_LABELS.get(code, code)), "count": n}
            for code, n in sorted(counts["by_language"].items())
        ],
    }


def audience_text(notice: Notice) -> dict:
    """The audience in words for the check page and the notice page."""
    topics = dict(topic_choices(notice.account))
    if notice.audience_all:
        topic_text = [_("Tất cả người theo dõi")]
    else:
        keys = notice.audience_topics or [notice.category]
        topic_text = [topics.get(key, key) for key in keys]
    return {
        "topics": topic_text,
        "areas": [row["name"] for row in areas_labelled(notice.audience_areas)] or [_("Mọi khu vực")],
        "languages": [str(LANGUAGE_LABELS.get(code, code)) for code in notice.audience_languages]
        or [_("Mọi ngôn ngữ")],
    }


def phone_previews(notice: Notice) -> list[dict]:
    """The notice as a citizen's phone shows it, once per language it is written in; the severity label in
    the citizen's language, as on the citizen page."""
    previews = []
    for language, caption in (
        ("vi", LANGUAGE_LABELS["vi"]),
        ("en", LANGUAGE_LABELS["en"]),
        ("zh-hans", LANGUAGE_LABELS["zh-hans"]),
    ):
        if language != "vi" and not getattr(notice, f"title_{language[:2]}"):
            continue
        title, body = notice.text_for(language)
        with translation.override(language):
            label = str(SEVERITY_LABELS[notice.severity])
        previews.append(
            {"language": language, "caption": str(caption), "title": title, "body": body, "severity_label": label}
        )
    return previews


def schedule_text(notice: Notice) -> dict:
    tz = notice.account.tzinfo
    return {
        "send": format_local(notice.send_at, tz) if notice.send_at else _("Ngay khi được duyệt"),
        "dispatch": format_local(notice.dispatch_at, tz),
        "expires": format_local(notice.expires_at, tz) if notice.expires_at else _("Không hết hạn"),
        "mode": _("Gửi thử: chỉ nhóm thử nghiệm của cán bộ")
        if notice.mode == Notice.MODE_TEST
        else _("Người nhận thật"),
    }


def progress_summary(notice: Notice) -> dict:
    """Live counts by status and by channel, and the rows of the per-channel stacked bar chart."""
    progress = selectors.notice_progress(notice=notice)
    by_status = [
        {"code": code, "label": str(DELIVERY_LABELS[code]), "count": progress["by_status"][code], "colour": colour}
        for code, colour in STATUS_COLOURS.items()
        if progress["by_status"].get(code)
    ]
    rows = []
    for channel, counts in sorted(progress["by_channel"].items()):
        total = sum(counts.values()) or 1
        x, segments = 0.0, []
        for code, colour in STATUS_COLOURS.items():
            n = counts.get(code, 0)
            if n:
                width = 100.0 * n / total
                segments.append(
                    {
                        "label": str(DELIVERY_LABELS[code]),
                        "count": n,
                        "x": f"{x:.2f}",
                        "w": f"{width:.2f}",
                        "colour": colour,
                    }
                )
                x += width
        rows.append(
            {
                "code": channel,
                "label": str(CHANNEL_LABELS.get(channel, channel)),
                "total": sum(counts.values()),
                "segments": segments,
            }
        )
    return {
        "status": notice.status,
        "status_label": str(STATUS_LABELS[notice.status]),
        "total": progress["total"],
        "done": progress["done"],
        "percent": progress["percent"],
        "percent_text": f"{progress['percent']:.0f}",
        "by_status": by_status,
        "by_channel": rows,
        "final": notice.status in Notice.FINAL_STATUSES,
    }


# --- list -----------------------------------------------------------------------------------------------
@require_GET
@console_view(roles=SENDERS)
def notice_list(request, slug: str):
    notices = selectors.notices_for_account(account=request.account)
    counts = {key: notices.filter(status__in=statuses).count() for key, statuses in STATE_GROUPS.items()}
    state = request.GET.get("state", "")
    if state in STATE_GROUPS:
        notices = notices.filter(status__in=STATE_GROUPS[state])
    else:
        state = ""
    tz = request.account.tzinfo
    rows = []
    for notice in notices.select_related("author")[:LIST_MAX]:
        when = notice.finished_at or notice.dispatch_at or notice.send_at or notice.updated_at
        rows.append(
            {
                "notice": notice,
                "status_label": STATUS_LABELS[notice.status],
                "severity_label": SEVERITY_LABELS[notice.severity],
                "kind_label": KIND_LABELS[notice.kind] if notice.kind != Notice.KIND_ALERT else "",
                "when": format_local(when, tz, with_zone=False),
                "url": _step_url(notice, "content")
                if notice.status == Notice.STATUS_DRAFT
                else reverse("staff:notice", args=[slug, notice.pk]),
            }
        )
    tabs = [{"key": "", "label": _("Tất cả"), "count": sum(counts.values()), "current": state == ""}] + [
        {"key": key, "label": STATE_GROUP_LABELS[key], "count": counts[key], "current": state == key}
        for key in STATE_GROUPS
    ]
    return render(
        request,
        "staff/notices/list.html",
        {"account": request.account, "rows": rows, "tabs": tabs, "state": state, "zone": zone_label(tz)},
    )


# --- compose: content -----------------------------------------------------------------------------------
CONTENT_FIELDS = ("title_vi", "body_vi", "title_en", "body_en", "title_zh", "body_zh", "severity", "link")


@require_http_methods(["GET", "POST"])
@console_view(roles=SENDERS)
def notice_new(request, slug: str):
    """Step 1 for a new notice: the draft is created when this step is saved."""
    form = ContentForm(request.POST or None, initial={"severity": Notice.SEVERITY_MODERATE})
    if request.method == "POST" and form.is_valid():
        topics = [key for key, _label in topic_choices(request.account)]
        values = {key: form.cleaned_data[key] for key in CONTENT_FIELDS}
        try:
            # The category (a topic) is chosen on the audience step; until then the account's first topic.
            outcome = services.notice_create(
                account=request.account, actor=_actor(request), category=topics[0] if topics else "", **values
            )
        except DomainError as exc:
            _field_errors(form, exc)
        else:
            flash.success(request, _("Đã lưu bản nháp."))
            return redirect(_step_url(outcome.notice, "audience"))
    return render(request, "staff/notices/content.html", _content_context(request, None, form))


@require_http_methods(["GET", "POST"])
@console_view(roles=SENDERS)
def notice_content(request, slug: str, pk: int):
    notice = _notice(request, pk)
    if (refused := _editable(request, notice)) is not None:
        return refused
    initial = {key: getattr(notice, key) for key in CONTENT_FIELDS}
    form = ContentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = {key: form.cleaned_data[key] for key in CONTENT_FIELDS}
        try:
            services.notice_update(notice=notice, actor=_actor(request), **values)
        except DomainError as exc:
            _field_errors(form, exc)
        else:
            return redirect(_next_url(request, notice, "content"))
    return render(request, "staff/notices/content.html", _content_context(request, notice, form))


def _content_context(request, notice, form) -> dict:
    severities = [
        {
            "value": value,
            "label": label,
            "hint": SEVERITY_HINTS[value],
            "checked": str(form["severity"].value()) == value,
        }
        for value, label in SEVERITY_LABELS.items()
    ]
    return _compose_context(request, notice, "content", form=form, severities=severities)


# --- compose: audience ----------------------------------------------------------------------------------
def _posted_audience(request, account) -> dict:
    """The audience choices of the form or query string, reduced to known topic keys and languages."""
    data = request.POST if request.method == "POST" else request.GET
    known_topics = {key for key, _label in topic_choices(account)}
    return {
        "audience_all": data.get("all") == "1",
        "audience_topics": [key for key in dict.fromkeys(data.getlist("topics")) if key in known_topics],
        "audience_areas": [code for code in dict.fromkeys(data.getlist("areas")) if code][
            : services.MAX_AUDIENCE_ITEMS + 1
        ],
        "audience_languages": [code for code in dict.fromkeys(data.getlist("languages")) if code in LANGUAGE_LABELS],
    }


@require_http_methods(["GET", "POST"])
@console_view(roles=SENDERS)
def notice_audience(request, slug: str, pk: int):
    notice = _notice(request, pk)
    if (refused := _editable(request, notice)) is not None:
        return refused
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = _posted_audience(request, request.account)
        action = request.POST.get("action", "continue")
        if values["audience_all"]:
            values["audience_topics"] = []
        elif values["audience_topics"]:
            values["category"] = values["audience_topics"][0]
        if action == "continue" and not values["audience_all"] and not values["audience_topics"]:
            errors["audience_topics"] = _("Chọn ít nhất một chủ đề, hoặc chọn gửi cho tất cả người theo dõi.")
        if not errors:
            try:
                services.notice_update(notice=notice, actor=_actor(request), **values)
            except DomainError as exc:
                errors = {key: str(value) for key, value in (exc.fields or {}).items()} or {"": str(exc.message)}
        if not errors:
            query = ""
            if action == "search":
                query = "?" + _query(request, q=request.POST.get("q", "").strip()[:80])
            elif action == "wards":
                query = "?" + _query(request, province=request.POST.get("province", "")[:20])
            if query:
                return redirect(_step_url(notice, "audience") + query + "#areas")
            return redirect(_next_url(request, notice, "audience"))
        # Shown again with the person's choices (nothing was stored): an unsaved copy of the draft.
        notice = _audience_copy(notice, values)
    context = _audience_context(request, notice, errors)
    return render(request, "staff/notices/audience.html", context, status=400 if errors else 200)


def _query(request, **params) -> str:
    if request.GET.get("from") == "check":
        params["from"] = "check"
    return urlencode({key: value for key, value in params.items() if value})


def _audience_copy(notice: Notice, values: dict) -> Notice:
    copy = Notice(
        pk=notice.pk,
        account=notice.account,
        category=values.get("category", notice.category),
        mode=notice.mode,
        references_id=notice.references_id,
        status=notice.status,
    )
    for key in ("audience_all", "audience_topics", "audience_areas", "audience_languages"):
        setattr(copy, key, values[key])
    return copy


def _audience_context(request, notice: Notice, errors: dict) -> dict:
    selected = set(notice.audience_areas)
    q = request.GET.get("q", "").strip()[:80]
    results = []
    if len(q) >= SEARCH_MIN:
        folded = ascii_fold(" ".join(q.split()))
        found = Area.objects.filter(name_ascii__icontains=folded).exclude(code__in=selected)[: SEARCH_MAX * 2]
        results = areas_labelled([a.code for a in found])[:SEARCH_MAX]
    provinces = areas_under(None) or []
    province_code = request.GET.get("province", "")[:20]
    province = next((p for p in provinces if p["code"] == province_code), None)
    wards = [w for w in (areas_under(province_code) or []) if w["code"] not in selected] if province else []
    for row in provinces + wards:
        row["fold"] = ascii_fold(row["name"])
    topics_chosen = set(notice.audience_topics or ([] if notice.audience_all else [notice.category]))
    count = audience_summary(notice) if not errors.get("audience_areas") else None
    return _compose_context(
        request,
        notice,
        "audience",
        errors=errors,
        topics=[
            {"key": key, "label": label, "checked": key in topics_chosen and not notice.audience_all}
            for key, label in topic_choices(notice.account)
        ],
        audience_all=notice.audience_all,
        languages=[
            {"code": code, "label": label, "checked": code in notice.audience_languages}
            for code, label in LANGUAGE_LABELS.items()
        ],
        selected_areas=areas_labelled(selected),
        provinces=[p for p in provinces if p["code"] not in selected],
        all_provinces=provinces,
        province=province,
        wards=wards,
        q=q,
        results=results,
        searched=len(q) >= SEARCH_MIN,
        count=count,
        count_url=reverse("staff:notice-audience-count", args=[notice.account.slug, notice.pk]),
        test_mode=notice.mode == Notice.MODE_TEST,
    )


@require_GET
@console_view(roles=SENDERS)
def notice_audience_count(request, slug: str, pk: int):
    """JSON for the live count: the page's current choices on an unsaved copy of the draft; nothing stored."""
    notice = _notice(request, pk)
    values = _posted_audience(request, request.account)
    if len(values["audience_areas"]) > services.MAX_AUDIENCE_ITEMS:
        return JsonResponse(ValidationFailed(_("Quá nhiều khu vực.")).as_dict(), status=400)
    if values["audience_topics"] and not values["audience_all"]:
        values["category"] = values["audience_topics"][0]
    summary = audience_summary(_audience_copy(notice, values))
    summary["total_text"] = _("%(n)s người nhận") % {"n": summary["total"]}
    return JsonResponse(summary)


# --- compose: schedule ----------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@console_view(roles=SENDERS)
def notice_schedule(request, slug: str, pk: int):
    notice = _notice(request, pk)
    if (refused := _editable(request, notice)) is not None:
        return refused
    tz = request.account.tzinfo
    initial = {"when": ScheduleForm.WHEN_LATER if notice.send_at else ScheduleForm.WHEN_NOW, "mode": notice.mode}
    for prefix, value in (("send", notice.send_at), ("expires", notice.expires_at)):
        if value is not None:
            local = timezone.localtime(value, tz)
            initial[f"{prefix}_date"], initial[f"{prefix}_time"] = (
                local.strftime(DATE_FORMAT),
                local.strftime(TIME_FORMAT),
            )
    form = ScheduleForm(request.POST or None, initial=initial, tz=tz)
    if request.method == "POST" and form.is_valid():
        values = {key: form.cleaned_data[key] for key in ("send_at", "expires_at", "mode")}
        try:
            services.notice_update(notice=notice, actor=_actor(request), **values)
        except DomainError as exc:
            _field_errors(form, _renamed(exc))
        else:
            return redirect(_next_url(request, notice, "schedule"))
    context = _compose_context(
        request,
        notice,
        "schedule",
        form=form,
        zone=zone_label(tz),
        now_local=format_local(timezone.now(), tz, with_zone=False),
    )
    return render(request, "staff/notices/schedule.html", context, status=400 if form.errors else 200)


def _renamed(exc: DomainError) -> DomainError:
    """The service names model fields; the form shows them on the date inputs."""
    names = {"send_at": "send_date", "expires_at": "expires_date"}
    exc.fields = {names.get(key, key): value for key, value in (exc.fields or {}).items()}
    return exc


# --- compose: check and submit --------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@console_view(roles=SENDERS)
def notice_check(request, slug: str, pk: int):
    notice = _notice(request, pk)
    if (refused := _editable(request, notice)) is not None:
        return refused
    if request.method == "POST":
        try:
            outcome = services.notice_submit(notice=notice, actor=_actor(request))
        except DomainError as exc:
            flash.error(request, str(exc.message))
        else:
            if outcome.notice.status == Notice.STATUS_PENDING:
                flash.success(request, _("Đã gửi đi để duyệt. Một người khác có quyền duyệt sẽ duyệt thông báo."))
            else:
                flash.success(request, _("Đã lên lịch gửi."))
            for note in outcome.notes:
                flash.info(request, note)
            return redirect("staff:notice", slug=slug, pk=notice.pk)
    # Read only: an account without a settings row has the model's defaults (every notice needs approval).
    policy = BroadcastSettings.objects.filter(account=request.account).first() or BroadcastSettings()
    context = _compose_context(
        request, notice, "check", needs_approval=services.needs_approval(notice, policy), **_notice_summary(notice)
    )
    return render(request, "staff/notices/check.html", context)


def _notice_summary(notice: Notice) -> dict:
    return {
        "previews": phone_previews(notice),
        "audience": audience_text(notice),
        "count": audience_summary(notice),
        "schedule": schedule_text(notice),
        "severity_label": SEVERITY_LABELS[notice.severity],
        "status_label": STATUS_LABELS[notice.status],
        "kind_label": KIND_LABELS[notice.kind],
        "zone": zone_label(notice.account.tzinfo),
    }


# --- one notice: approve, progress, cancel, correct, CAP --------------------------------------------------
@require_GET
@console_view(roles=SENDERS)
def notice_detail(request, slug: str, pk: int):
    notice = _notice(request, pk)
    if notice.status == Notice.STATUS_DRAFT:
        return redirect(_step_url(notice, "check"))
    actor = _actor(request)
    own = services.is_own_notice(notice=notice, actor=actor)
    tz = request.account.tzinfo
    context = {
        "account": request.account,
        "notice": notice,
        "own": own,
        "may_approve": role_allows(request.role, APPROVERS) and not own,
        "is_approver": role_allows(request.role, APPROVERS),
        "pending": notice.status == Notice.STATUS_PENDING,
        "may_cancel": notice.status not in Notice.FINAL_STATUSES and notice.status != Notice.STATUS_SENT,
        "may_follow_up": notice.status in (Notice.STATUS_SENT, Notice.STATUS_SENDING, Notice.STATUS_EXPIRED)
        and notice.kind == Notice.KIND_ALERT,
        "has_progress": notice.status in (Notice.STATUS_SCHEDULED, Notice.STATUS_SENDING, *Notice.FINAL_STATUSES),
        "author": notice.author.get_username() if notice.author else "",
        "approver": notice.approver.get_username() if notice.approver else "",
        "submitted": format_local(notice.submitted_at, tz),
        "approved": format_local(notice.approved_at, tz),
        **_notice_summary(notice),
    }
    if context["has_progress"]:
        context["progress"] = progress_summary(notice)
    return render(request, "staff/notices/detail.html", context)


@require_GET
@console_view(roles=SENDERS)
def notice_progress(request, slug: str, pk: int):
    """JSON for the progress poll: the counts and the server-rendered panel (with its SVG chart)."""
    notice = _notice(request, pk)
    progress = progress_summary(notice)
    progress["html"] = render_to_string("staff/notices/_progress.html", {"progress": progress}, request=request)
    return JsonResponse(progress)


@require_POST
@console_view(roles=APPROVERS)
def notice_approve(request, slug: str, pk: int):
    notice = _notice(request, pk)
    try:
        outcome = services.notice_approve(notice=notice, actor=_actor(request))
    except DomainError as exc:
        flash.error(request, str(exc.message))
    else:
        when = format_local(outcome.notice.dispatch_at, request.account.tzinfo)
        flash.success(request, _("Đã duyệt. Thông báo sẽ được gửi lúc %(when)s.") % {"when": when})
        for note in outcome.notes:
            flash.info(request, note)
    return redirect("staff:notice", slug=slug, pk=notice.pk)


@require_POST
@console_view(roles=APPROVERS)
def notice_reject(request, slug: str, pk: int):
    notice = _notice(request, pk)
    try:
        services.notice_reject(notice=notice, actor=_actor(request), reason=request.POST.get("reason", "")[:200])
    except DomainError as exc:
        flash.error(request, str(exc.message))
    else:
        flash.success(request, _("Đã trả lại thông báo thành bản nháp để người soạn sửa."))
    return redirect("staff:notices", slug=slug)


@require_http_methods(["GET", "POST"])
@console_view(roles=SENDERS)
def notice_cancel(request, slug: str, pk: int):
    notice = _notice(request, pk)
    if request.method == "POST":
        try:
            services.notice_cancel(notice=notice, actor=_actor(request))
        except DomainError as exc:
            flash.error(request, str(exc.message))
        else:
            flash.success(request, _("Đã hủy thông báo. Những tin chưa gửi sẽ không được gửi."))
        return redirect("staff:notice", slug=slug, pk=notice.pk)
    context = {
        "account": request.account,
        "notice": notice,
        "status_label": STATUS_LABELS[notice.status],
        "cancellable": notice.status not in Notice.FINAL_STATUSES,
    }
    return render(request, "staff/notices/cancel.html", context)


@require_POST
@console_view(roles=SENDERS)
def notice_follow_up(request, slug: str, pk: int):
    """Correct (an update) or withdraw (a cancellation) a sent notice: a draft prefilled from the original,
    opened at its first step; it goes to exactly the citizens who received the original."""
    notice = _notice(request, pk)
    kind = Notice.KIND_CANCEL if request.POST.get("kind") == Notice.KIND_CANCEL else Notice.KIND_UPDATE
    try:
        outcome = services.notice_follow_up_create(notice=notice, kind=kind, actor=_actor(request))
    except DomainError as exc:
        flash.error(request, str(exc.message))
        return redirect("staff:notice", slug=slug, pk=notice.pk)
    flash.success(request, _("Đã tạo bản nháp từ thông báo gốc. Sửa nội dung rồi gửi đi để duyệt."))
    return redirect(_step_url(outcome.notice, "content"))


@require_GET
@console_view(roles=SENDERS)
def notice_cap(request, slug: str, pk: int):
    """The notice as a CAP 1.2 alert (broadcasts.cap), as a download."""
    notice = _notice(request, pk)
    response = HttpResponse(cap_export(notice), content_type="application/cap+xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{notice.cap_identifier}.xml"'
    return response
