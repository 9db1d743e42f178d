"""Reads of the FAQ app, always scoped to one account."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from faq.index import index_for, local_day, rank_categories
from faq.models import FaqEntry, FaqVariant, Synonym, UnansweredQuestion
from faq.normalize import fold
from oa_platform.models import OfficialAccount


def entries_for_account(*, account: OfficialAccount, active_only: bool = False) -> QuerySet[FaqEntry]:
    qs = FaqEntry.objects.filter(account=account).prefetch_related(
        Prefetch("variants", queryset=FaqVariant.objects.order_by("pk"))
    )
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("category", "key")


def _folded(text: str) -> str:
    return fold(" ".join(text.casefold().split()))


def entries_search(*, account: OfficialAccount, query: str) -> list[FaqEntry]:
    """The account's entries whose key, question, variants, answer, category or tags hold every word of
    ``query``, compared without case or diacritics ("le phi" finds "Lệ phí"). Filtered in Python: an account
    has tens to a few hundred entries, and the folding is the matcher's own (faq.normalize.fold)."""
    entries = list(entries_for_account(account=account))
    words = _folded(query or "").split()
    if not words:
        return entries
    found = []
    for entry in entries:
        texts = [entry.key, entry.question, entry.answer, entry.category, *map(str, entry.tags or [])]
        texts += [v.text for v in entry.variants.all()]
        haystack = _folded(" ".join(texts))
        if all(word in haystack for word in words):
            found.append(entry)
    return found


def entry_for_account(*, account: OfficialAccount, pk) -> FaqEntry | None:
    """One entry of the account by id; None for another account's entry or a malformed id."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return FaqEntry.objects.filter(account=account, pk=pk).first()


def entry_by_key(*, account: OfficialAccount, key: str) -> FaqEntry | None:
    return FaqEntry.objects.filter(account=account, key=key).first()


def synonyms_for_account(*, account: OfficialAccount) -> QuerySet[Synonym]:
    return Synonym.objects.filter(account=account).order_by("term")


def faq_categories(*, account: OfficialAccount) -> list[str]:
    """Distinct categories of the account's active, currently valid entries, else their tags (most used
    first), for the fallback's "you can ask about ..." list."""
    today = local_day(account)
    rows = (
        FaqEntry.objects.filter(account=account, is_active=True)
        .exclude(valid_from__gt=today)
        .exclude(valid_until__lt=today)
        .values_list("category", "tags")
    )
    return rank_categories(rows)


def unanswered_for_account(
    *, account: OfficialAccount, status: str | None = UnansweredQuestion.STATUS_OPEN
) -> QuerySet[UnansweredQuestion]:
    """Most frequent first; ``status=None`` for every status."""
    qs = UnansweredQuestion.objects.filter(account=account)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-count", "-last_seen", "pk")


# Past this many other accounts of the language, the lookup would build too many indexes for one chat message.
MAX_OTHER_ACCOUNTS = 50


def other_account_for(*, account: OfficialAccount, text, answered: bool | None = None) -> OfficialAccount | None:
    """The one OTHER active account of the same language whose FAQ answers ``text`` outright (its calibrated
    decision is "answer") while this account's does not; None when this account answers it, or when no other
    account or several do (then nobody "clearly" covers it). ``answered``: whether this account's own match
    answered, when the caller has matched already (the chat's fallback), so it is not matched twice.

    Reads only the other accounts' public FAQ (their cached matcher indexes, built on first use; accounts with
    no active entry are left out in the same query); returns the account so the caller can name and link its
    public page. Meant for a platform of tens of accounts: past ``MAX_OTHER_ACCOUNTS`` of the language it
    answers None rather than build them all."""
    if not isinstance(text, str) or not text.strip():
        return None
    if answered is None:
        answered = index_for(account).matcher.match(text).decision == "answer"
    if answered:
        return None
    others = list(
        OfficialAccount.objects.filter(is_active=True, default_language=account.default_language)
        .exclude(pk=account.pk)
        .filter(Exists(FaqEntry.objects.filter(account=OuterRef("pk"), is_active=True)))
        .order_by("pk")[: MAX_OTHER_ACCOUNTS + 1]
    )
    if len(others) > MAX_OTHER_ACCOUNTS:
        return None
    found = [other for other in others if index_for(other).matcher.match(text).decision == "answer"]
    return found[0] if len(found) == 1 else None
