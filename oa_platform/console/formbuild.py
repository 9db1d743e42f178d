"""The form builder of the staff console (/staff/<slug>/forms/new/ and /staff/<slug>/forms/<pk>/questions/...):
editors create a form and add, edit, move and remove its questions. Every write goes through the collection
services the API uses (form_create, form_questions_update), so their rules hold here too: a form with answers
can gain questions and fix labels, but an answered question keeps its type and its answered options."""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages as flash
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from oa_platform.collect import selectors, services
from oa_platform.collect.models import Form, Question
from oa_platform.console.access import EDITORS, console_view
from oa_platform.console.notice_forms import format_local, parse_local, zone_label
from oa_platform.errors import DomainError

CHOICE_TYPES = (Question.TYPE_CHOICE, Question.TYPE_MULTIPLE)
# A new form asks followers or staff; an area, a list of phones and the schedule are set on its schedule page.
NEW_FORM_AUDIENCES = [choice for choice in Form.AUDIENCE_CHOICES if choice[0] != Form.AUDIENCE_LIST]


def _form(request, pk: int) -> Form:
    return selectors.form_of_account_or_404(account=request.account, pk=pk)


def _error_text(exc: DomainError) -> str:
    details = "; ".join(f"{value}" for value in exc.fields.values() if isinstance(value, str))
    return f"{exc.message} {details}".strip()


def _number(raw: str, errors: list, label: str):
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        errors.append(_("%(field)s phải là một số.") % {"field": label})
        return None
    return int(value) if value.is_integer() else value


def _question_from_post(data, key: str, errors: list) -> dict:
    """A question spec (as the API takes it) from the question fields of a page."""
    kind = data.get("type", "")
    spec = {
        "key": key,
        "type": kind,
        "required": data.get("required") == "on",
        **{name: data.get(name, "").strip() for name in services.QUESTION_FIELDS},
    }
    # Whatever was typed goes to the service, which says why options or min/max do not fit the type.
    options = [_option_of_line(line) for line in data.get("options", "").splitlines() if line.strip()]
    if options or kind in CHOICE_TYPES:
        spec["options"] = options
    for name, label in (("min", _("Nhỏ nhất")), ("max", _("Lớn nhất"))):
        value = _number(data.get(name), errors, label)
        if value is not None:
            spec[name] = value
    return spec


def _option_of_line(line: str) -> dict:
    """One option typed on a line: "Vietnamese | English | Chinese", the translations optional."""
    parts = [part.strip() for part in line.split("|")] + ["", ""]
    return {"label_vi": parts[0], "label_en": parts[1], "label_zh": parts[2]}


def _line_of_option(option: dict) -> str:
    parts = [option.get("label_vi", ""), option.get("label_en", ""), option.get("label_zh", "")]
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    return " | ".join(parts)


def _spec_of(question: Question) -> dict:
    spec = {
        "key": question.key,
        "type": question.type,
        "required": question.required,
        **{name: getattr(question, name) for name in services.QUESTION_FIELDS},
    }
    if question.options:
        spec["options"] = [dict(option) for option in question.options]
    if question.type == Question.TYPE_NUMBER:
        spec["min"], spec["max"] = question.min_value, question.max_value
    return spec


def _new_key(label: str, taken: set[str]) -> str:
    base = (slugify(label) or "q")[:50]
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def _merge_options(old: list[dict], typed: list[dict]) -> list[dict]:
    """Options typed one per line, keeping the key of an option whose Vietnamese label stays (its answers)."""
    keys = {option["label_vi"]: option["key"] for option in old}
    return [option | {"key": keys[option["label_vi"]]} if option["label_vi"] in keys else option for option in typed]


def _questions_context(request, form: Form, values=None, editing: Question | None = None, errors=None) -> dict:
    return {
        "account": request.account,
        "form": form,
        "questions": list(form.questions.all()),
        "types": Question.TYPE_CHOICES,
        "values": values or {},
        "editing": editing,
        "has_round": form.rounds.exists(),
        "errors": errors or [],
    }


@console_view(EDITORS)
@require_http_methods(["GET", "POST"])
def form_new(request, slug: str):
    values = {"late_policy": Form.LATE_ACCEPT, "type": Question.TYPE_SHORT_TEXT, "audience": Form.AUDIENCE_FOLLOWERS}
    errors = []
    if request.method == "POST":
        values = request.POST
        title_vi = values.get("title_vi", "").strip()
        key = slugify(values.get("key", "").strip() or title_vi)[:60]
        if not title_vi:
            errors.append(_("Cần tiêu đề tiếng Việt."))
        retention = _number(values.get("retention_days"), errors, _("Số ngày lưu"))
        if retention is not None and (not isinstance(retention, int) or retention < 1):
            errors.append(_("Số ngày lưu là một số nguyên dương."))
        late = values.get("late_policy")
        if late not in dict(Form.LATE_CHOICES):
            errors.append(_("Chọn cách xử lý câu trả lời muộn."))
        audience = values.get("audience") or Form.AUDIENCE_FOLLOWERS
        if audience not in dict(NEW_FORM_AUDIENCES):
            errors.append(_("Chọn người nhận biểu mẫu."))
        topic = values.get("topic", "") if audience == Form.AUDIENCE_FOLLOWERS else ""
        question = _question_from_post(values, _new_key(values.get("label_vi", ""), set()), errors)
        if not errors:
            try:
                form = services.form_create(
                    account=request.account,
                    key=key or "bieu-mau",
                    title_vi=title_vi,
                    title_en=values.get("title_en", ""),
                    title_zh=values.get("title_zh", ""),
                    late_policy=late,
                    retention_days=retention,
                    questions=[question],
                    audience={"kind": audience, "topic": topic},
                    open_first=False,  # opened on its rounds or schedule page, once its questions are ready
                    actor=request.user,
                )
            except DomainError as exc:
                errors.append(_error_text(exc))
            else:
                flash.success(request, _("Đã tạo biểu mẫu."))
                return redirect("staff:form-questions", slug=slug, pk=form.pk)
    context = {
        "account": request.account,
        "values": values,
        "errors": errors,
        "types": Question.TYPE_CHOICES,
        "late_choices": Form.LATE_CHOICES,
        "audiences": NEW_FORM_AUDIENCES,
        "topics": [(t.key, t.label(translation.get_language() or "vi")) for t in request.account.topics.all()],
    }
    return render(request, "staff/formbuild/new.html", context, status=400 if errors else 200)


def _save(request, form: Form, specs: list[dict], done: str):
    try:
        services.form_questions_update(form=form, questions=specs, actor=request.user)
    except DomainError as exc:
        return _error_text(exc)
    flash.success(request, done)
    return None


@console_view(EDITORS)
@require_http_methods(["GET", "POST"])
def form_questions(request, slug: str, pk: int):
    """The questions of a form; POST adds one at the end."""
    form = _form(request, pk)
    if request.method == "GET":
        return render(request, "staff/formbuild/questions.html", _questions_context(request, form))
    questions = list(form.questions.all())
    errors: list[str] = []
    spec = _question_from_post(
        request.POST, _new_key(request.POST.get("label_vi", ""), {q.key for q in questions}), errors
    )
    if not errors:
        error = _save(request, form, [_spec_of(q) for q in questions] + [spec], _("Đã thêm câu hỏi."))
        if error is None:
            return redirect("staff:form-questions", slug=slug, pk=pk)
        errors.append(error)
    context = _questions_context(request, form, values=request.POST, errors=errors)
    return render(request, "staff/formbuild/questions.html", context, status=400)


def _question(form: Form, qid: int) -> Question:
    question = form.questions.filter(pk=qid).first()
    if question is None:
        raise Http404(_("Không tìm thấy câu hỏi."))
    return question


@console_view(EDITORS)
@require_http_methods(["GET", "POST"])
def form_question_edit(request, slug: str, pk: int, qid: int):
    form = _form(request, pk)
    question = _question(form, qid)
    if request.method == "GET":
        values = _spec_of(question) | {"options": "\n".join(_line_of_option(o) for o in question.options)}
        values["min"] = "" if question.min_value is None else question.min_value
        values["max"] = "" if question.max_value is None else question.max_value
        context = _questions_context(request, form, values=values, editing=question)
        return render(request, "staff/formbuild/questions.html", context)
    errors: list[str] = []
    spec = _question_from_post(request.POST, question.key, errors)
    if "options" in spec:
        spec["options"] = _merge_options(question.options, spec["options"])
    if not errors:
        specs = [spec if q.pk == question.pk else _spec_of(q) for q in form.questions.all()]
        error = _save(request, form, specs, _("Đã lưu câu hỏi."))
        if error is None:
            return redirect("staff:form-questions", slug=slug, pk=pk)
        errors.append(error)
    context = _questions_context(request, form, values=request.POST, editing=question, errors=errors)
    return render(request, "staff/formbuild/questions.html", context, status=400)


@console_view(EDITORS)
@require_POST
def form_question_move(request, slug: str, pk: int, qid: int):
    """Move a question up or down one place, or delete it (``action`` = up | down | delete)."""
    form = _form(request, pk)
    question = _question(form, qid)
    questions = list(form.questions.all())
    index = questions.index(question)
    action = request.POST.get("action")
    if action == "delete":
        questions.pop(index)
        done = _("Đã xoá câu hỏi.")
    elif action in ("up", "down"):
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(questions):
            questions[index], questions[other] = questions[other], questions[index]
        done = _("Đã đổi thứ tự.")
    else:
        flash.error(request, _("Thao tác không hợp lệ."))
        return redirect("staff:form-questions", slug=slug, pk=pk)
    error = _save(request, form, [_spec_of(q) for q in questions], done)
    if error is not None:
        flash.error(request, error)
    return redirect("staff:form-questions", slug=slug, pk=pk)


ROUND_FIELDS = (("opens", _("Mở lúc")), ("closes", _("Đóng lúc")), ("remind", _("Nhắc lúc")))


def _answered_text(round_) -> str:
    """ "in the audience / audience", and how many answered from outside it."""
    progress = selectors.round_progress(round_)
    text = f"{progress['responded_in_audience']} / {round_.audience_count}"
    if progress["responded_outside"]:
        text += " + " + _("%(n)s ngoài danh sách") % {"n": progress["responded_outside"]}
    return text


def _round_times(data, tz, errors: list) -> dict:
    """opens/closes/remind typed day-first (dd/mm/yyyy and HH:MM) in the account's zone; an empty date is None."""
    times = {}
    for name, label in ROUND_FIELDS:
        day, hour = data.get(f"{name}_date", "").strip(), data.get(f"{name}_time", "").strip()
        if not day and not hour:
            times[f"{name}_at"] = None
            continue
        try:
            times[f"{name}_at"] = parse_local(day, hour or "00:00", tz)
        except django_forms.ValidationError as exc:
            errors.append(f"{label}: {' '.join(exc.messages)}")
    return times


@console_view(EDITORS)
@require_http_methods(["GET", "POST"])
def form_round(request, slug: str, pk: int):
    """Open a new round of the form once: dates typed day-first in the account's zone; no opening date = now."""
    form = _form(request, pk)
    tz = request.account.tzinfo
    values, errors = {}, []
    if request.method == "POST":
        values = request.POST
        times = _round_times(values, tz, errors)
        if not errors:
            try:
                with transaction.atomic():
                    services.round_open(form=form, **times)
            except DomainError as exc:
                errors.append(_error_text(exc))
            except IntegrityError:  # the (form, opens_at) pair is unique
                errors.append(_("Biểu mẫu đã có một đợt mở đúng lúc này."))
            else:
                flash.success(request, _("Đã mở đợt mới."))
                return redirect("staff:form-round", slug=slug, pk=pk)
    rounds = [
        {
            "opens": format_local(r.opens_at, tz),
            "closes": format_local(r.closes_at, tz) or "—",
            "answered": _answered_text(r),
        }
        for r in form.rounds.order_by("-opens_at")[:10]
    ]
    context = {
        "account": request.account,
        "form": form,
        "values": values,
        "errors": errors,
        "rounds": rounds,
        "fields": [
            {"name": n, "label": label, "date": values.get(f"{n}_date", ""), "time": values.get(f"{n}_time", "")}
            for n, label in ROUND_FIELDS
        ],
        "zone": zone_label(tz),
    }
    return render(request, "staff/formbuild/round.html", context, status=400 if errors else 200)


@console_view(EDITORS)
@require_http_methods(["GET", "POST"])
def form_details(request, slug: str, pk: int):
    """The form's titles (typos fixed at any time), late-answer policy and retention."""
    form = _form(request, pk)
    errors: list[str] = []
    values = {name: getattr(form, name) for name in services.DETAIL_FIELDS}
    values["retention_days"] = "" if form.retention_days is None else form.retention_days
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in services.DETAIL_FIELDS}
        retention = _number(values["retention_days"], errors, _("Số ngày lưu"))
        if retention is not None and not isinstance(retention, int):
            errors.append(_("Số ngày lưu là một số nguyên dương."))
        if not errors:
            try:
                services.form_details_update(form=form, actor=request.user, **(values | {"retention_days": retention}))
            except DomainError as exc:
                errors.append(_error_text(exc))
            else:
                flash.success(request, _("Đã lưu biểu mẫu."))
                return redirect("staff:form-details", slug=slug, pk=pk)
    context = {
        "account": request.account,
        "form": form,
        "values": values,
        "errors": errors,
        "late_choices": Form.LATE_CHOICES,
        "has_round": form.rounds.exists(),
    }
    return render(request, "staff/formbuild/details.html", context, status=400 if errors else 200)
