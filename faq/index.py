"""The per-process cache of each account's matcher index.

``index_for(account)`` reads the account's version stamp (one primary-key lookup) and returns the cached
index when the stamp, the account's language and (for accounts with dated entries) the local day are the same
as when it was built; otherwise it rebuilds from the database. Every process (web workers, Celery, the ASGI
server) sees a change once the transaction that bumped the stamp commits, because the stamp lives in the DB.

Limits: one index holds all of an account's active entries in memory (about 10,000 entries build in ~1 s and
take tens of MiB; see ``manage.py bench_faq``). Two threads that miss at once both build; the last one wins.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from faq.calibration import shipped_rule
from faq.matcher import Entry, Matcher
from faq.models import FaqEntry, FaqIndexVersion, FaqVariant, Synonym
from oa_platform.compiled_queries import CompiledQuery
from oa_platform.models import OfficialAccount


@dataclass(frozen=True)
class AccountIndex:
    stamp: tuple  # (version, changed_at) of FaqIndexVersion when built
    language: str
    day: datetime.date | None  # the local day the validity filter used; None when no entry has dates
    matcher: Matcher
    answers: dict[str, str]  # key -> answer text
    questions: dict[str, str]  # key -> canonical question
    categories: tuple[str, ...] = ()  # the entries' topics, most used first (see rank_categories)


# A fallback lists a handful of topics; more is noise in a chat bubble.
MAX_CATEGORIES = 20

_cache: dict[int, AccountIndex] = {}
_lock = threading.Lock()
# Number of index builds in this process (tests assert the cache is used).
builds = 0


# Read before every match: compiled to SQL once per process (see oa_platform.compiled_queries).
_stamp = CompiledQuery(
    lambda account_id: (
        FaqIndexVersion.objects.filter(account_id=account_id)
        .order_by("account_id")
        .values_list("version", "changed_at")[:1]
    ),
    account_id=-730_001,
)


def current_stamp(account_id: int) -> tuple:
    row = _stamp.first(account_id=account_id)
    return tuple(row) if row else (0, None)


def local_day(account: OfficialAccount) -> datetime.date:
    return timezone.localtime(timezone.now(), account.tzinfo).date()


def rank_categories(rows: Iterable[tuple[str, list | None]]) -> list[str]:
    """Distinct categories of (category, tags) rows, else their tags, most used first (then by name)."""
    categories: dict[str, int] = {}
    tags: dict[str, int] = {}
    for category, entry_tags in rows:
        if category:
            categories[category] = categories.get(category, 0) + 1
        for tag in entry_tags or []:
            if isinstance(tag, str) and tag:
                tags[tag] = tags.get(tag, 0) + 1
    chosen = categories or tags
    return [name for name, _n in sorted(chosen.items(), key=lambda kv: (-kv[1], kv[0]))][:MAX_CATEGORIES]


def index_for(account: OfficialAccount) -> AccountIndex:
    stamp = current_stamp(account.pk)
    cached = _cache.get(account.pk)
    if (
        cached is not None
        and cached.stamp == stamp
        and cached.language == account.language
        and (cached.day is None or cached.day == local_day(account))
    ):
        return cached
    index = build_index(account, stamp=stamp)
    with _lock:
        _cache[account.pk] = index
    return index


def build_index(account: OfficialAccount, *, stamp: tuple = (0, None)) -> AccountIndex:
    """Load the account's active entries valid today, their variants and synonyms; build the matcher."""
    global builds
    today = local_day(account)
    rows = list(
        FaqEntry.objects.filter(account=account, is_active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("pk")
        .values_list("pk", "key", "question", "answer", "tags", "category")
    )
    dated = FaqEntry.objects.filter(account=account, is_active=True).filter(
        Q(valid_from__isnull=False) | Q(valid_until__isnull=False)
    )
    variants: dict[int, list[str]] = {}
    for entry_id, text in (
        FaqVariant.objects.filter(entry__in=[r[0] for r in rows]).order_by("pk").values_list("entry_id", "text")
        if rows
        else ()
    ):
        variants.setdefault(entry_id, []).append(text)
    entries = [
        Entry(
            key=key,
            question=question,
            variants=tuple(variants.get(pk, ())),
            answer=answer,
            tags=tuple(t for t in (tags or []) if isinstance(t, str)),
        )
        for pk, key, question, answer, tags, _category in rows
    ]
    synonyms = {
        term: expansion
        for term, expansion in Synonym.objects.filter(account=account)
        .filter(Q(language="") | Q(language=account.default_language))
        .order_by("language", "pk")  # a language-specific synonym overrides an "every language" one
        .values_list("term", "expansion")
    }
    # the composition point: the run-time index decides with the shipped calibration
    matcher = Matcher(entries, language=account.language, synonyms=synonyms or None, decide=shipped_rule())
    builds += 1
    return AccountIndex(
        stamp=stamp,
        language=account.language,
        day=today if dated.exists() else None,
        matcher=matcher,
        answers={e.key: e.answer for e in entries},
        questions={e.key: e.question for e in entries},
        categories=tuple(rank_categories((category, tags) for *_row, tags, category in rows)),
    )


def index_forget(account_id: int | None = None) -> None:
    """Drop this process's cached index (of one account, or all). Tests and the bench use it."""
    with _lock:
        if account_id is None:
            _cache.clear()
        else:
            _cache.pop(account_id, None)
