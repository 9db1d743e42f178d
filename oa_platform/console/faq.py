"""The console's FAQ section (editors): entries (search, create, edit, enable/disable, delete), the review of
unanswered questions grouped by similar text, and "try a question".

Thin views: parse a form, call one service of faq/services.py (every write goes there, tenant-guarded) or a
selector, render; POST-redirect-GET with a flash message. Domain errors become the form's field errors
(400), nothing half-stored (the services are atomic)."""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from faq import services
from faq.intents import detect_intent
from faq.models import MAX_KEY, MAX_QUESTION, UnansweredQuestion
from faq.review import unanswered_groups
from faq.selectors import (
    entries_for_account,
    entries_search,
    entry_for_account,
    synonyms_for_account,
    unanswered_for_account,
)
from oa_platform.console.access import EDITORS, console_view
from oa_platform.conversations.engine import faq_reply_preview
from oa_platform.errors import DomainError, NotFound, ValidationFailed
from oa_platform.models import LANGUAGE_CHOICES, Message

# Groups shown on one review page; the rest wait below a "more" count (each group runs the matcher once).
REVIEW_GROUPS_SHOWN = 30
# The longest question the try box takes (the chat's own limit applies too: clean_text).
MAX_TRY = 2000

# What a service's field error code means, in the editor's language.
FIELD_ERRORS = {
    "required": gettext_lazy("Hãy điền mục này."),
    "too_long": gettext_lazy("Nội dung quá dài."),
    "taken": gettext_lazy("Mã này đã được dùng cho một câu hỏi khác."),
    "invalid": gettext_lazy("Giá trị không hợp lệ."),
    "not_text": gettext_lazy("Giá trị không hợp lệ."),
    "before_valid_from": gettext_lazy("Ngày hết hiệu lực phải sau ngày bắt đầu."),
}
DECISION_WORDS = {
    Message.DECISION_ANSWER: gettext_lazy("Trả lời ngay"),
    Message.DECISION_SUGGEST: gettext_lazy("Gợi ý"),
    Message.DECISION_FALLBACK: gettext_lazy("Không có câu trả lời"),
    UnansweredQuestion.DECISION_OTHER_AGENCY: gettext_lazy("Chuyển sang cơ quan khác"),
}
DECISION_HINTS = {
    Message.DECISION_ANSWER: gettext_lazy("Bot gửi ngay câu trả lời của mục khớp nhất."),
    Message.DECISION_SUGGEST: gettext_lazy("Bot chưa chắc chắn: gửi các câu hỏi gần nhất để công dân chọn."),
    Message.DECISION_FALLBACK: gettext_lazy("Không mục nào đủ gần: câu hỏi được ghi lại để cán bộ xem xét."),
    UnansweredQuestion.DECISION_OTHER_AGENCY: gettext_lazy("Một cơ quan khác trả lời câu hỏi này: bot chỉ chỗ hỏi."),
}
# How close a candidate is, in words the matcher's own decision justifies (its scores are not probabilities).
CONFIDENCE_WORDS = {
    "sure": gettext_lazy("Chắc chắn: bot trả lời bằng mục này"),
    "maybe": gettext_lazy("Có thể: bot gợi ý mục này"),
    "far": gettext_lazy("Xa: bot không gợi ý"),
}
QUEUE_DECISIONS = {
    UnansweredQuestion.DECISION_FALLBACK: gettext_lazy("Không có câu trả lời"),
    UnansweredQuestion.DECISION_SUGGEST: gettext_lazy("Chỉ gợi ý"),
    UnansweredQuestion.DECISION_NOT_HELPFUL: gettext_lazy("Bị đánh giá không hữu ích"),
    UnansweredQuestion.DECISION_OTHER_AGENCY: gettext_lazy("Thuộc cơ quan khác"),
}


def confidence(match, key: str, first: bool) -> str:
    """ "sure" for the entry the bot answers with, "maybe" for one it suggests, "far" for the rest."""
    if first and match.decision == Message.DECISION_ANSWER and match.faq == key:
        return "sure"
    if key in {c.key for c in match.suggestions}:
        return "maybe"
    return "far"


def _candidates(match, entries_by_key: dict, limit: int) -> list[dict]:
    top = match.candidates[0].score if match.candidates else 0
    out = []
    for i, c in enumerate(match.candidates[:limit]):
        level = confidence(match, c.key, i == 0)
        out.append(
            {
                "key": c.key,
                "question": c.question,
                "entry": entries_by_key.get(c.key),
                "level": level,
                "words": CONFIDENCE_WORDS[level],
                # the bar: the candidate's score relative to the best one's (0..100)
                "relative": round(100 * c.score / top) if top else 0,
            }
        )
    return out


def local_when(value, account) -> str:
    """A time in the account's time zone, day-first and 24-hour (Chinese: year first), the zone named."""
    local = timezone.localtime(value, account.tzinfo)
    pattern = "%Y-%m-%d %H:%M" if (translation.get_language() or "").startswith("zh") else "%d/%m/%Y %H:%M"
    return f"{local.strftime(pattern)} ({account.timezone})"


# --- forms ------------------------------------------------------------------------------------------------
# Typed and shown day-first (a browser's date picker follows the browser's locale, often month-first); ISO too.
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
DAY_FIRST = forms.DateInput(
    format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off", "size": 10}
)


def _required():
    return {"required": gettext_lazy("Hãy điền mục này.")}


class EntryForm(forms.Form):
    key = forms.SlugField(
        label=gettext_lazy("Mã"),
        max_length=MAX_KEY,
        required=False,
        help_text=gettext_lazy("Chữ thường không dấu nối bằng gạch ngang; để trống để tự tạo từ câu hỏi."),
        error_messages={"invalid": gettext_lazy("Chỉ dùng chữ thường không dấu, số và gạch ngang.")},
    )
    question = forms.CharField(
        label=gettext_lazy("Câu hỏi"),
        max_length=MAX_QUESTION,
        min_length=2,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages=_required(),
    )
    variants = forms.CharField(
        label=gettext_lazy("Cách hỏi khác"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Mỗi dòng một cách hỏi, như công dân hay gõ."),
    )
    answer = forms.CharField(
        label=gettext_lazy("Câu trả lời"), widget=forms.Textarea(attrs={"rows": 7}), error_messages=_required()
    )
    language = forms.ChoiceField(label=gettext_lazy("Ngôn ngữ"), choices=LANGUAGE_CHOICES)
    category = forms.CharField(label=gettext_lazy("Chủ đề"), max_length=100, required=False)
    tags = forms.CharField(
        label=gettext_lazy("Thẻ"), required=False, help_text=gettext_lazy("Cách nhau bằng dấu phẩy.")
    )
    valid_from = forms.DateField(
        label=gettext_lazy("Hiệu lực từ ngày"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=DAY_FIRST,
        error_messages={"invalid": gettext_lazy("Nhập ngày dạng dd/mm/yyyy.")},
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Hiệu lực đến hết ngày"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=DAY_FIRST,
        error_messages={"invalid": gettext_lazy("Nhập ngày dạng dd/mm/yyyy.")},
    )
    legal_basis = forms.CharField(
        label=gettext_lazy("Căn cứ pháp lý"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_active = forms.BooleanField(label=gettext_lazy("Đang dùng (bot trả lời bằng mục này)"), required=False)

    def __init__(self, *args, creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["key"]  # import matches on the key: renaming it would orphan the entry

    def clean_variants(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["variants"].splitlines() if line.strip()]
        too_long = [line for line in lines if len(line) > MAX_QUESTION]
        if too_long:
            raise forms.ValidationError(
                _("Mỗi cách hỏi tối đa %(n)d ký tự: %(text)s") % {"n": MAX_QUESTION, "text": too_long[0][:60]}
            )
        return lines

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", FIELD_ERRORS["before_valid_from"])
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        names = ("question", "answer", "language", "category", "tags", "valid_from", "valid_until", "legal_basis")
        return {**{name: data[name] for name in names}, "is_active": data["is_active"]}

    def add_domain_error(self, exc: DomainError) -> None:
        placed = False
        for name, code in (exc.fields or {}).items():
            target = name if name in self.fields else None
            self.add_error(target, FIELD_ERRORS.get(code, FIELD_ERRORS["invalid"]))
            placed = True
        if not placed:
            self.add_error(None, FIELD_ERRORS["invalid"])


def _initial(entry) -> dict:
    return {
        "question": entry.question,
        "variants": "\n".join(v.text for v in entry.variants.all()),
        "answer": entry.answer,
        "language": entry.language,
        "category": entry.category,
        "tags": ", ".join(entry.tags or []),
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until,
        "legal_basis": entry.legal_basis,
        "is_active": entry.is_active,
    }


def _entry_or_404(request, pk):
    entry = entry_for_account(account=request.account, pk=pk)
    if entry is None:
        raise Http404("No such FAQ entry.")
    return entry


def _list_url(slug: str, query: str = "") -> str:
    url = reverse("staff:faq", args=[slug])
    return f"{url}?{urlencode({'q': query})}" if query else url


# --- entries ----------------------------------------------------------------------------------------------
@require_GET
@console_view(roles=EDITORS)
def faq_list(request, slug):
    account = request.account
    query = request.GET.get("q", "").strip()[:MAX_QUESTION]
    entries = entries_search(account=account, query=query)
    context = {
        "account": account,
        "query": query,
        "entries": entries,
        "total": len(entries) if not query else entries_for_account(account=account).count(),
        "open_questions": unanswered_for_account(account=account).count(),
    }
    return render(request, "staff/faq/list.html", context)


def _items_param(request) -> list[int]:
    raw = request.GET.get("items", "") if request.method == "GET" else ",".join(request.POST.getlist("items"))
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise Http404("No such question.") from None
    if len(ids) > services.MAX_GROUP_IDS:  # more than a review group holds: not a link the console made
        raise Http404("No such question.")
    return ids


@require_http_methods(["GET", "POST"])
@console_view(roles=EDITORS)
def faq_add(request, slug):
    """A new entry; with ``items`` (ids of a review group) it answers those questions, prefilled with the
    newest one's text, and resolves them."""
    account = request.account
    item_ids = _items_param(request)
    items = list(unanswered_for_account(account=account, status=None).filter(pk__in=item_ids)) if item_ids else []
    if len(items) != len(set(item_ids)):
        raise Http404("No such question.")
    status = 200
    if request.method == "POST":
        form = EntryForm(request.POST, creating=True)
        if form.is_valid():
            data = form.cleaned_data
            key = data["key"] or services.faq_key_suggest(account=account, question=data["question"])
            try:
                if items:
                    entry = services.unanswered_group_create_faq(
                        account=account,
                        item_ids=item_ids,
                        key=key,
                        variants=data["variants"],
                        actor=request.user,
                        **form.service_fields(),
                    )
                else:
                    entry = services.faq_entry_create(
                        account=account, key=key, variants=data["variants"], actor=request.user, **form.service_fields()
                    )
            except ValidationFailed as exc:
                form.add_domain_error(exc)
            else:
                flash.success(request, _("Đã thêm câu hỏi “%(q)s”.") % {"q": entry.question})
                return redirect(reverse("staff:faq-review", args=[slug]) if items else _list_url(slug))
        status = 400
    else:
        newest = max(items, key=lambda i: (i.last_seen, i.pk)) if items else None
        initial = {"language": account.default_language, "is_active": True}
        if newest is not None:
            initial["question"] = newest.sample_text[:MAX_QUESTION]
        form = EntryForm(initial=initial, creating=True)
    context = {"account": account, "form": form, "review_items": items, "item_ids": ",".join(map(str, item_ids))}
    return render(request, "staff/faq/edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@console_view(roles=EDITORS)
def faq_edit(request, slug, pk):
    account = request.account
    entry = _entry_or_404(request, pk)
    status = 200
    if request.method == "POST":
        form = EntryForm(request.POST, creating=False)
        if form.is_valid():
            try:
                services.faq_entry_update(
                    entry=entry, variants=form.cleaned_data["variants"], actor=request.user, **form.service_fields()
                )
            except ValidationFailed as exc:
                form.add_domain_error(exc)
            else:
                flash.success(request, _("Đã lưu câu hỏi “%(q)s”.") % {"q": entry.question})
                return redirect(_list_url(slug))
        status = 400
    else:
        form = EntryForm(initial=_initial(entry), creating=False)
    return render(request, "staff/faq/edit.html", {"account": account, "form": form, "entry": entry}, status=status)


@require_POST
@console_view(roles=EDITORS)
def faq_toggle(request, slug, pk):
    entry = _entry_or_404(request, pk)
    services.faq_entry_update(entry=entry, is_active=not entry.is_active, actor=request.user)
    if entry.is_active:
        flash.success(request, _("Đã bật câu hỏi “%(q)s”.") % {"q": entry.question})
    else:
        flash.success(request, _("Đã tắt câu hỏi “%(q)s”: bot không dùng nó để trả lời.") % {"q": entry.question})
    return redirect(_list_url(slug, request.POST.get("q", "").strip()[:MAX_QUESTION]))


@require_http_methods(["GET", "POST"])
@console_view(roles=EDITORS)
def faq_delete(request, slug, pk):
    entry = _entry_or_404(request, pk)
    if request.method == "POST":
        question = entry.question
        services.faq_entry_delete(entry=entry, actor=request.user)
        flash.success(request, _("Đã xoá câu hỏi “%(q)s”.") % {"q": question})
        return redirect(_list_url(slug))
    return render(request, "staff/faq/delete.html", {"account": request.account, "entry": entry})


# --- review of unanswered questions -------------------------------------------------------------------------
def _review_group_view(group, account, entries_by_key) -> dict:
    newest = group.newest
    match = services.faq_match(account=account, text=newest.sample_text)
    candidates = [c for c in _candidates(match, entries_by_key, 3) if c["entry"] is not None]
    # the nearest entry is preselected when the matcher itself thought of it (answered or suggested it); an
    # entry it found only faintly (a fallback) is listed but not checked, so one click cannot add noise
    preselect = candidates[0]["entry"].pk if candidates and candidates[0]["level"] != "far" else None
    language_names = dict(LANGUAGE_CHOICES)
    return {
        "group": group,
        "newest": newest,
        "when": local_when(newest.last_seen, account),
        "languages": [language_names.get(code, code) for code in group.languages],
        "decision": QUEUE_DECISIONS.get(newest.decision, newest.decision),
        "referred_to": group.referred_to,
        "candidates": candidates,
        "preselect": preselect,
        "others": group.items[1:] if group.items[0] == newest else [i for i in group.items if i != newest],
        "ids": ",".join(map(str, group.item_ids)),
    }


@require_GET
@console_view(roles=EDITORS)
def faq_review(request, slug):
    account = request.account
    groups = unanswered_groups(account=account)
    entries = list(entries_for_account(account=account))
    entries_by_key = {entry.key: entry for entry in entries}
    shown = [_review_group_view(g, account, entries_by_key) for g in groups[:REVIEW_GROUPS_SHOWN]]
    context = {
        "account": account,
        "groups": shown,
        "more": max(0, len(groups) - REVIEW_GROUPS_SHOWN),
        "entries": entries,
    }
    return render(request, "staff/faq/review.html", context)


@require_POST
@console_view(roles=EDITORS)
def faq_review_variant(request, slug):
    account = request.account
    choice = request.POST.get("entry", "")
    if choice == "other":
        choice = request.POST.get("other_entry", "")
    entry = entry_for_account(account=account, pk=choice)
    review = reverse("staff:faq-review", args=[slug])
    if entry is None:
        flash.error(request, _("Hãy chọn câu hỏi để thêm cách hỏi này vào."))
        return redirect(review)
    try:
        items = services.unanswered_group_add_as_variant(
            account=account, item_ids=request.POST.getlist("items"), entry=entry, actor=request.user
        )
    except NotFound:
        raise Http404("No such question.") from None
    except ValidationFailed:
        flash.error(request, _("Câu hỏi quá dài để làm một cách hỏi: hãy tạo câu hỏi mới từ nó."))
        return redirect(review)
    flash.success(
        request,
        _("Đã thêm “%(text)s” làm cách hỏi của “%(q)s”.") % {"text": items[0].sample_text[:80], "q": entry.question},
    )
    return redirect(review)


@require_POST
@console_view(roles=EDITORS)
def faq_review_dismiss(request, slug):
    try:
        items = services.unanswered_group_ignore(
            account=request.account, item_ids=request.POST.getlist("items"), actor=request.user
        )
    except NotFound:
        raise Http404("No such question.") from None
    except ValidationFailed:
        flash.error(request, _("Hãy chọn câu hỏi."))
        return redirect(reverse("staff:faq-review", args=[slug]))
    flash.success(request, _("Đã bỏ qua “%(text)s”.") % {"text": items[0].sample_text[:80]})
    return redirect(reverse("staff:faq-review", args=[slug]))


# --- synonyms -------------------------------------------------------------------------------------------------
class SynonymForm(forms.Form):
    term = forms.CharField(
        label=gettext_lazy("Từ công dân gõ"),
        max_length=100,
        help_text=gettext_lazy("Ví dụ: gpkd"),
        error_messages=_required(),
    )
    expansion = forms.CharField(
        label=gettext_lazy("Nghĩa là"),
        max_length=200,
        help_text=gettext_lazy("Ví dụ: giấy phép kinh doanh"),
        error_messages=_required(),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Ngôn ngữ"),
        choices=[("", gettext_lazy("Mọi ngôn ngữ")), *LANGUAGE_CHOICES],
        required=False,
    )

    def add_domain_error(self, exc: DomainError) -> None:
        for name, code in (exc.fields or {"term": "invalid"}).items():
            message = _("Từ này đã có.") if code == "taken" else FIELD_ERRORS.get(code, FIELD_ERRORS["invalid"])
            self.add_error(name if name in self.fields else None, message)


@require_http_methods(["GET", "POST"])
@console_view(roles=EDITORS)
def faq_synonyms(request, slug):
    """The account's own abbreviations and synonyms (on top of the built-in dictionaries): list and add."""
    account = request.account
    status = 200
    if request.method == "POST":
        form = SynonymForm(request.POST)
        if form.is_valid():
            try:
                synonym = services.synonym_create(account=account, actor=request.user, **form.cleaned_data)
            except ValidationFailed as exc:
                form.add_domain_error(exc)
            else:
                flash.success(
                    request,
                    _("Đã thêm “%(term)s” → “%(expansion)s”.") % {"term": synonym.term, "expansion": synonym.expansion},
                )
                return redirect(reverse("staff:faq-synonyms", args=[slug]))
        status = 400
    else:
        form = SynonymForm()
    context = {"account": account, "form": form, "synonyms": synonyms_for_account(account=account)}
    return render(request, "staff/faq/synonyms.html", context, status=status)


@require_POST
@console_view(roles=EDITORS)
def faq_synonym_delete(request, slug, pk):
    synonym = synonyms_for_account(account=request.account).filter(pk=pk).first()
    if synonym is None:
        raise Http404("No such synonym.")
    services.synonym_delete(synonym=synonym, actor=request.user)
    flash.success(request, _("Đã xoá “%(term)s”.") % {"term": synonym.term})
    return redirect(reverse("staff:faq-synonyms", args=[slug]))


# --- try a question -----------------------------------------------------------------------------------------
@require_GET
@console_view(roles=EDITORS)
def faq_try(request, slug):
    account = request.account
    text = request.GET.get("q", "").strip()
    context = {"account": account, "text": text[:MAX_TRY]}
    status = 200
    if len(text) > MAX_TRY:
        context["error"] = _("Câu hỏi dài quá %(n)d ký tự.") % {"n": MAX_TRY}
        status = 400
    elif text:
        try:
            reply = faq_reply_preview(account=account, text=text)
        except ValidationFailed:
            context["error"] = FIELD_ERRORS["invalid"]
            status = 400
        else:
            match = services.faq_match(account=account, text=text)
            entries_by_key = {e.key: e for e in entries_for_account(account=account)}
            decision = UnansweredQuestion.DECISION_OTHER_AGENCY if reply.get("referral") else reply["decision"]
            context.update(
                reply=reply,
                decision=decision,
                decision_words=DECISION_WORDS.get(decision, decision),
                decision_hint=DECISION_HINTS.get(decision, ""),
                intent=detect_intent(text, language=account.language),
                candidates=_candidates(match, entries_by_key, 5),
            )
    return render(request, "staff/faq/try.html", context, status=status)
