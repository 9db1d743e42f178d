"""The schedule and audience of a form in the staff console (/staff/<slug>/forms/<pk>/schedule/): rounds by hand
only, every day, or on chosen weekdays at a time, open for some hours, with a reminder time; and who is asked
(followers of a topic in an area picked from lists, the account's staff, or a list of phones: typed, or copied
from a recipient list uploaded for personal notices). The console is the composition point that may read the
personal notices' lists (oa_platform.collect does not import broadcasts). One service does the write
(form_settings_update), so the API's rules hold here too."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods

from broadcasts.personal.models import ListRow, RecipientList, e164
from oa_platform.collect import selectors, services
from oa_platform.collect.audience import audience_citizens
from oa_platform.collect.models import Form
from oa_platform.console.access import EDITORS, console_view
from oa_platform.console.notice_forms import TIME_RE, zone_label
from oa_platform.errors import DomainError
from oa_platform.models import Area, Membership
from oa_platform.web_state import areas_under

WEEKDAYS = [
    (0, pgettext_lazy("weekday", "Thứ Hai")),
    (1, pgettext_lazy("weekday", "Thứ Ba")),
    (2, pgettext_lazy("weekday", "Thứ Tư")),
    (3, pgettext_lazy("weekday", "Thứ Năm")),
    (4, pgettext_lazy("weekday", "Thứ Sáu")),
    (5, pgettext_lazy("weekday", "Thứ Bảy")),
    (6, pgettext_lazy("weekday", "Chủ Nhật")),
]
# Hours a recurring round may stay open: a week at most (services.WINDOW_MAX_MINUTES).
WINDOW_HOURS_MAX = services.WINDOW_MAX_MINUTES // 60
# Recipient lists offered: the most recent ones; an older upload is uploaded again.
LISTS_SHOWN = 30


def _form(request, pk: int) -> Form:
    return selectors.form_of_account_or_404(account=request.account, pk=pk)


def _time(raw: str, label: str, errors: list) -> dt.time | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    match = TIME_RE.match(raw)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        errors.append(_("%(field)s: nhập giờ theo dạng 24 giờ GIỜ:PHÚT, ví dụ 08:00.") % {"field": label})
        return None
    return dt.time(int(match.group(1)), int(match.group(2)))


def _values_of(form: Form) -> dict:
    """The page's fields as the form stands."""
    area = form.audience_area
    province = area.path.split("/")[0] if area else ""
    return {
        "repeat": form.repeat,
        "weekdays": [d for d in form.repeat_weekdays.split(",") if d],
        "open_time": form.open_time.strftime("%H:%M") if form.open_time else "",
        "window_hours": str(form.window_minutes // 60 if form.window_minutes % 60 == 0 else form.window_minutes / 60),
        "remind_time": form.remind_time.strftime("%H:%M") if form.remind_time else "",
        "audience": form.audience,
        "topic": form.audience_topic,
        "province": province,
        "ward": area.code if area and area.code != province else "",
        # phones are personal data: the list in use is named and counted, never shown back (the box left empty
        # keeps it)
        "phones": "",
        "list": "",
    }


def _values_of_post(data) -> dict:
    return {
        "repeat": data.get("repeat", Form.REPEAT_NONE),
        "weekdays": data.getlist("weekdays"),
        "open_time": data.get("open_time", ""),
        "window_hours": data.get("window_hours", ""),
        "remind_time": data.get("remind_time", ""),
        "audience": data.get("audience", Form.AUDIENCE_FOLLOWERS),
        "topic": data.get("topic", ""),
        "province": data.get("province", ""),
        "ward": data.get("ward", ""),
        "phones": data.get("phones", ""),
        "list": data.get("list", ""),
    }


def _lists(account):
    return RecipientList.objects.filter(account=account).order_by("-created_at", "-id")


def _schedule(values: dict, errors: list) -> dict:
    repeat = values["repeat"]
    if repeat not in dict(Form.REPEAT_CHOICES):
        errors.append(_("Chọn cách lặp lại."))
        return {}
    if repeat == Form.REPEAT_NONE:
        return {"repeat": repeat}
    opens = _time(values["open_time"], _("Giờ mở"), errors)
    if opens is None and not errors:
        errors.append(_("Cần giờ mở đợt."))
    remind = _time(values["remind_time"], _("Giờ nhắc"), errors)
    weekdays = []
    for day in values["weekdays"]:
        if day not in {str(d) for d, _label in WEEKDAYS}:
            errors.append(_("Chọn ngày trong tuần từ danh sách."))
            break
        weekdays.append(int(day))
    if repeat == Form.REPEAT_WEEKDAYS and not weekdays and not errors:
        errors.append(_("Chọn ít nhất một ngày trong tuần."))
    hours_raw = (values["window_hours"] or "").strip().replace(",", ".")
    try:
        hours = float(hours_raw) if hours_raw else 24.0
    except ValueError:
        hours = -1.0
    if not 0 < hours <= WINDOW_HOURS_MAX:
        errors.append(_("Số giờ mở là một số từ 1 đến %(n)s.") % {"n": WINDOW_HOURS_MAX})
    return {
        "repeat": repeat,
        "weekdays": weekdays,
        "open_time": opens,
        "window_minutes": max(int(round(hours * 60)), 1),
        "remind_time": remind,
    }


def _audience(request, form: Form, values: dict, errors: list) -> dict:
    kind = values["audience"]
    if kind == Form.AUDIENCE_FOLLOWERS:
        return {"kind": kind, "topic": values["topic"], "area": values["ward"] or values["province"]}
    if kind == Form.AUDIENCE_LIST:
        phones = [line for line in values["phones"].splitlines() if line.strip()]
        name = ""
        if values["list"]:
            chosen = _lists(request.account).filter(pk=values["list"]).first() if values["list"].isdigit() else None
            if chosen is None:
                errors.append(_("Chọn một danh sách trong danh sách đã tải lên."))
            else:
                valid = ListRow.objects.filter(recipient_list=chosen, problems__isnull=True).exclude(phone="")
                valid = valid.annotate(e164=e164()).order_by("number").values_list("e164", flat=True)
                phones += list(valid[: Form.AUDIENCE_PHONES_MAX + 1])
                name = chosen.file_name
        if not phones and not values["list"] and form.audience == Form.AUDIENCE_LIST:
            phones, name = list(form.audience_phones), form.audience_list_name  # the box left empty: kept
        return {"kind": kind, "phones": phones, "list_name": name}
    return {"kind": kind}


def _phones_unreachable(form: Form) -> int:
    """How many phones of the form's list no follower or citizen of the account has: they cannot be asked. One
    query (the audience's distinct phones), whatever the list's length."""
    if form.audience != Form.AUDIENCE_LIST or not form.audience_phones:
        return 0
    reached = audience_citizens(form).order_by().values("phone").distinct().count()
    return max(len(form.audience_phones) - reached, 0)


def _context(request, form: Form, values: dict, errors: list) -> dict:
    language = translation.get_language() or "vi"
    province = values.get("province") or ""
    wards = (areas_under(province) or []) if province else []
    area_codes = [code for code in (values.get("ward"), province) if code]
    chosen_area = Area.objects.filter(code__in=area_codes).order_by("-path").first() if area_codes else None
    return {
        "account": request.account,
        "form": form,
        "values": values,
        "errors": errors,
        "repeats": Form.REPEAT_CHOICES,
        "weekdays": [(str(d), label) for d, label in WEEKDAYS],
        "audiences": Form.AUDIENCE_CHOICES,
        "topics": [(t.key, t.label(language)) for t in request.account.topics.all()],
        "provinces": areas_under(None) or [],
        "wards": wards,
        "chosen_area": chosen_area,
        "lists": [
            {"pk": str(r.pk), "name": r.file_name, "rows": r.rows_total - r.rows_invalid}
            for r in _lists(request.account)
        ],
        "list_name": form.audience_list_name or _("số đã nhập"),
        "phones_count": len(form.audience_phones) if form.audience == Form.AUDIENCE_LIST else 0,
        "audience_now": audience_citizens(form).count(),
        "phones_unreachable": _phones_unreachable(form),
        "has_round": form.rounds.exists(),
        # staff without a chat identity (set in the admin) cannot be asked: say how many
        "staff_missing": Membership.objects.filter(account=request.account, test_citizen__isnull=True).count(),
        "zone": zone_label(request.account.tzinfo),
    }


@console_view(EDITORS)
@require_http_methods(["GET", "POST"])
def form_schedule(request, slug: str, pk: int):
    """GET: the form's schedule and audience. POST ``action=wards``: show the wards of the chosen province (no
    save; the page works without script). POST: save both, or show what is wrong (400, nothing saved)."""
    form = _form(request, pk)
    if request.method == "GET":
        return render(request, "staff/formbuild/schedule.html", _context(request, form, _values_of(form), []))
    values = _values_of_post(request.POST)
    if request.POST.get("action") == "wards":
        values["ward"] = ""
        return render(request, "staff/formbuild/schedule.html", _context(request, form, values, []))
    errors: list[str] = []
    schedule = _schedule(values, errors)
    audience = _audience(request, form, values, errors)
    if not errors:
        try:
            services.form_settings_update(form=form, schedule=schedule, audience=audience, actor=request.user)
        except DomainError as exc:
            details = "; ".join(str(v) for v in exc.fields.values() if isinstance(v, str))
            errors.append(f"{exc.message} {details}".strip())
        else:
            flash.success(request, _("Đã lưu lịch và người nhận."))
            return redirect("staff:form-schedule", slug=slug, pk=pk)
    return render(request, "staff/formbuild/schedule.html", _context(request, form, values, errors), status=400)


def form_summary(form: Form, language: str) -> dict:
    """Who the form asks and when, in words (the results page and the forms list show it)."""
    if form.audience == Form.AUDIENCE_STAFF:
        audience = _("cán bộ của tài khoản")
    elif form.audience == Form.AUDIENCE_LIST:
        audience = _("danh sách %(n)s số điện thoại") % {"n": len(form.audience_phones)}
        if form.audience_list_name:
            audience += f" ({form.audience_list_name})"
    else:
        audience = _("người theo dõi")
        topic = form.account.topics.filter(key=form.audience_topic).first() if form.audience_topic else None
        if topic is not None:
            audience += " · " + _("chủ đề %(topic)s") % {"topic": topic.label(language)}
        if form.audience_area is not None:
            audience += " · " + _("ở %(area)s") % {"area": form.audience_area.name}
    if form.repeat == Form.REPEAT_NONE or form.open_time is None:
        schedule = _("mở từng đợt")
    else:
        days = dict(WEEKDAYS)
        when = (
            _("hằng ngày")
            if form.repeat == Form.REPEAT_DAILY
            else ", ".join(str(days[int(d)]) for d in form.repeat_weekdays.split(",") if d)
        )
        schedule = f"{when} {form.open_time:%H:%M}"
        if form.remind_time is not None:
            schedule += " · " + _("nhắc lúc %(time)s") % {"time": f"{form.remind_time:%H:%M}"}
    return {"audience": audience, "schedule": schedule}
