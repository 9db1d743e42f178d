"""A form answered in chat (web chat, Zalo, WeChat, generic: they all go through the chat engine): one question
at a time, each answer checked by the same function as the API and the web page, the reason given and the
question asked again when it does not fit. "bỏ qua"/"skip"/"跳过" passes an optional question, "sửa"/"edit"/
"修改" goes back one question, "hủy"/"cancel"/"取消" leaves. The state is a row (``Dialogue``), so a citizen can
stop and carry on later; while it exists the FAQ bot waits.

The chat engine calls ``form_dialogue_reply`` once per citizen message (``conversations.engine.chat_receive``): it
answers with a reply when a dialogue is active or the message starts one ("biểu mẫu <key>", "form <key>",
"表单 <key>"), else None and the engine goes on as usual. Call it with the reply language active.
"""

from __future__ import annotations

import re
import uuid

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oa_platform.collect import services
from oa_platform.collect.answers import AnswerError, answer_clean, answer_from_text
from oa_platform.collect.models import Dialogue, Form, Question, Response, option_label
from oa_platform.errors import DomainError
from oa_platform.models import Citizen, OfficialAccount

SKIP_WORDS = frozenset({"bỏ qua", "bo qua", "skip", "跳过"})
EDIT_WORDS = frozenset({"sửa", "sua", "edit", "back", "修改"})
CANCEL_WORDS = frozenset({"hủy", "huỷ", "huy", "cancel", "stop form", "取消"})
START = re.compile(r"^\s*(?:biểu mẫu|bieu mau|form|表单|填表)\s*[:：]?\s*([-a-zA-Z0-9_]{1,60})\s*$", re.IGNORECASE)


def _reply(text: str, *, form: Form | None = None, question: Question | None = None, done: bool = False) -> dict:
    """The chat reply contract (oa_platform.conversations.engine) with what the form dialogue adds under "form"."""
    body = {"text": text, "decision": "fallback", "faq": None, "score": 0.0, "suggestions": []}
    if form is not None:
        body["form"] = {"id": form.pk, "question": question.key if question else None, "done": done}
    return body


def _join(language: str, *parts: str) -> str:
    return ("\n").join(part for part in parts if part)


def question_prompt(question: Question, number: int, total: int, language: str) -> str:
    """ "(2/5) The label", its help, its numbered options and how to answer it."""
    lines = [f"({number}/{total}) {question.label(language)}"]
    if question.help(language):
        lines.append(question.help(language))
    for index, option in enumerate(question.options, 1):
        lines.append(f"{index}. {option_label(option, language)}")
    kind = question.type
    if kind == "choice":
        lines.append(_("Trả lời bằng số thứ tự của lựa chọn."))
    elif kind == "multiple":
        lines.append(_("Có thể chọn nhiều: gõ các số, cách nhau bởi dấu phẩy (ví dụ: 1, 3)."))
    elif kind == "number" and question.min_value is not None and question.max_value is not None:
        lines.append(
            _("Gõ một số từ %(min)s đến %(max)s.")
            % {"min": f"{question.min_value:g}", "max": f"{question.max_value:g}"}
        )
    elif kind == "number":
        lines.append(_("Gõ một số."))
    elif kind == "date":
        lines.append(_("Gõ ngày theo dạng ngày/tháng/năm, ví dụ 03/12/2026."))
    elif kind == "yes_no":
        lines.append(_("Trả lời có hoặc không."))
    elif kind == "area":
        lines.append(_("Gõ mã địa bàn (tỉnh hoặc phường, xã)."))
    if not question.required:
        lines.append(_('Câu này không bắt buộc: gõ "bỏ qua" để bỏ qua.'))
    return "\n".join(lines)


def _ask(dialogue: Dialogue, questions: list[Question], language: str, *before: str) -> dict:
    question = questions[dialogue.position]
    text = _join(language, *before, question_prompt(question, dialogue.position + 1, len(questions), language))
    return _reply(text, form=dialogue.round.form, question=question)


# Whether an account has any form being answered in chat, in the shared cache: most chat messages go to accounts
# with none, and they then cost no database read here. Re-read from the database this often (seconds).
ACCOUNT_FLAG_TTL_S = 300


def _flag_key(account_id: int) -> str:
    return f"collect:dialogues:{account_id}"


def _account_has_dialogues(account_id: int) -> bool:
    flag = cache.get(_flag_key(account_id))
    if flag is None:
        flag = int(Dialogue.objects.filter(account_id=account_id).exists())
        # add, not set: a dialogue started meanwhile (which sets 1) is never overwritten by this older read
        cache.add(_flag_key(account_id), flag, ACCOUNT_FLAG_TTL_S)
    return bool(flag)


def dialogue_start(*, account: OfficialAccount, citizen: Citizen, form: Form, language: str) -> dict:
    """Start (or restart) answering ``form`` in chat; the reply introduces it and asks the first question."""
    if form.account_id != account.pk:
        raise ValueError("The form is not this account's.")
    round_ = services.current_round(form)
    if round_ is None or not round_.is_open():
        return _reply(_("Biểu mẫu này hiện không nhận câu trả lời."), form=form)
    dialogue, _created = Dialogue.objects.update_or_create(
        account=account,
        citizen=citizen,
        defaults={"round": round_, "position": 0, "answers": {}, "language": language, "updated_at": timezone.now()},
    )
    transaction.on_commit(lambda: cache.set(_flag_key(account.pk), 1, ACCOUNT_FLAG_TTL_S))
    cache.set(_flag_key(account.pk), 1, ACCOUNT_FLAG_TTL_S)
    questions = list(form.questions.all())
    intro = _(
        'Biểu mẫu "%(title)s": %(count)s câu hỏi. Gõ "sửa" để quay lại câu trước, "hủy" để dừng. '
        "Bạn có thể dừng giữa chừng và trả lời tiếp sau."
    ) % {"title": form.title(language), "count": len(questions)}
    return _ask(dialogue, questions, language, intro)


def form_dialogue_reply(*, account: OfficialAccount, citizen: Citizen, text: str, language: str) -> dict | None:
    """The reply to ``text`` when a form is being answered in this conversation (or ``text`` starts one), else
    None. One indexed read when no form is being answered."""
    dialogue = None
    if _account_has_dialogues(account.pk):
        dialogue = Dialogue.objects.filter(account=account, citizen=citizen).select_related("round__form").first()
    if dialogue is None:
        match = START.match(text or "")
        if match is None:
            return None
        form = Form.objects.filter(account=account, key=match[1]).first()
        if form is None:
            return None
        return dialogue_start(account=account, citizen=citizen, form=form, language=language)
    with transaction.atomic():
        dialogue = Dialogue.objects.select_for_update().select_related("round__form").get(pk=dialogue.pk)
        return _step(dialogue, citizen, (text or "").strip(), language)


def _step(dialogue: Dialogue, citizen: Citizen, text: str, language: str) -> dict:
    form = dialogue.round.form
    questions = list(form.questions.all())
    word = text.casefold().rstrip(".!。！")
    if word in CANCEL_WORDS:
        dialogue.delete()
        return _reply(_("Đã dừng biểu mẫu; câu trả lời chưa được gửi. Bạn có thể hỏi tiếp như bình thường."), form=form)
    if not dialogue.round.is_open():
        dialogue.delete()
        return _reply(_("Biểu mẫu này đã hết hạn trả lời."), form=form)
    if dialogue.position >= len(questions):  # the form lost questions meanwhile
        return _finish(dialogue, citizen, questions, language)
    question = questions[dialogue.position]
    if word in EDIT_WORDS:
        dialogue.position = max(dialogue.position - 1, 0)
        dialogue.answers.pop(questions[dialogue.position].key, None)
        _save(dialogue)
        return _ask(dialogue, questions, language)
    if word in SKIP_WORDS:
        if question.required:
            return _ask(dialogue, questions, language, _("Câu này bắt buộc, không bỏ qua được."))
        dialogue.answers.pop(question.key, None)
    else:
        try:
            value = answer_clean(
                question, answer_from_text(question, text, language=language), area_path=services.area_path
            )
        except AnswerError as exc:
            return _ask(dialogue, questions, language, _("Chưa đúng: %(reason)s") % {"reason": exc})
        if value is None and question.required:
            return _ask(dialogue, questions, language, _("Câu này bắt buộc, không bỏ qua được."))
        if value is not None:
            dialogue.answers[question.key] = value
    dialogue.position += 1
    if dialogue.position >= len(questions):
        return _finish(dialogue, citizen, questions, language)
    _save(dialogue)
    return _ask(dialogue, questions, language)


def _save(dialogue: Dialogue) -> None:
    dialogue.updated_at = timezone.now()
    dialogue.save(update_fields=["position", "answers", "updated_at"])


def _finish(dialogue: Dialogue, citizen: Citizen, questions: list[Question], language: str) -> dict:
    form = dialogue.round.form
    answers = {q.key: dialogue.answers[q.key] for q in questions if q.key in dialogue.answers}
    dialogue.delete()
    try:
        services.response_submit(
            form=form, citizen=citizen, client_id=uuid.uuid4(), answers=answers, channel=Response.CHANNEL_CHAT
        )
    except DomainError as exc:
        return _reply(_("Chưa gửi được câu trả lời: %(reason)s") % {"reason": exc.message}, form=form, done=True)
    return _reply(_("Cảm ơn bạn! Câu trả lời đã được ghi nhận."), form=form, done=True)
