"""What every side of a conversation needs first: a citizen's text cleaned, the language the bot answers in,
the (account, citizen) conversation row. Imports no other part of the conversation code."""

from __future__ import annotations

from django.conf import settings

from oa_platform.errors import ValidationFailed
from oa_platform.models import Citizen, Conversation, OfficialAccount
from oa_platform.services import citizen_account_check

# Control characters other than tab/newline are dropped: they are never part of a question and break logs.
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))
_CONTROL.update({127: None})


def clean_text(text) -> str:
    """Validate and tidy a citizen's message. Raises ValidationFailed for empty or oversize text."""
    if not isinstance(text, str):
        raise ValidationFailed("text must be a string.", fields={"text": "required"})
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, e.g. "\\ud800" in JSON: no database can store it
        raise ValidationFailed("text is not valid Unicode.", fields={"text": "invalid"}) from exc
    text = text.translate(_CONTROL).strip()
    if not text:
        raise ValidationFailed("text is empty.", fields={"text": "empty"})
    if len(text) > settings.CHAT_MAX_TEXT:
        raise ValidationFailed(f"text is longer than {settings.CHAT_MAX_TEXT} characters.", fields={"text": "too_long"})
    return text


def reply_language(citizen: Citizen, account: OfficialAccount, language: str | None = None) -> str:
    """The language of every text the bot writes: ``language`` when the channel knows the citizen's current one
    (the web page: the citizen's choice, else the account's), else the citizen's, else the account's."""
    return supported_language(language) or citizen.language or account.default_language or "vi"


def supported_language(language: str | None) -> str | None:
    """``language`` as one of settings.LANGUAGES (``zh``, ``zh-CN`` are ``zh-hans``), None for anything else."""
    if not language or not isinstance(language, str):
        return None
    language = language.lower()
    if language.startswith("zh"):
        return "zh-hans"
    return language if language in _LANGUAGES else None


_LANGUAGES = {code for code, _name in settings.LANGUAGES}


def conversation_for(*, account: OfficialAccount, citizen: Citizen) -> Conversation:
    citizen_account_check(account=account, citizen=citizen)
    # get_or_create reads first and only opens a savepoint to create; it re-reads on a concurrent insert.
    conversation, _created = Conversation.objects.get_or_create(account=account, citizen=citizen)
    return conversation
