"""What a message asks about its object: fee, duration, place, documents, online, lost, damaged, ... (pure Python).

Government FAQs about one object (ID card, passport, licence, vaccination) differ mostly by what is asked:
"how much", "how long", "where", "what do I bring". Word overlap alone cannot tell those siblings apart, so
both sides are typed with a multilingual cue dictionary (`dictionaries/question_types.json`) and the matcher
rewards agreement and penalises a clear conflict.

- Cues go through the account's `Normalizer` (teen-code "bn" meets "bao nhiêu", English stems, Chinese
  colloquial wording) and are also kept as typed (diacritic-folded), matched on the normalised, folded
  text as whole words (Chinese: substrings), longest first, each span once ("mất bao lâu" is a duration,
  not a loss). `not_a_cue` phrases are consumed first and count for nothing.
- An entry's types: those of its canonical question, plus any type held by at least half of its phrasings
  (and by at least two); an untyped entry is left alone.

Limits: one regex pass per text (a few microseconds); never raises (an unusable dictionary types nothing).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from faq.normalize import Normalizer, clean, fold, has_cjk

_PATH = Path(__file__).resolve().parent / "dictionaries" / "question_types.json"
_IGNORE = ""  # type of a `not_a_cue` phrase


@lru_cache(maxsize=1)
def _load() -> dict:
    try:
        with _PATH.open(encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):  # pragma: no cover - a broken dictionary disables typing, never the matcher
        return {"strong": [], "cues": {}, "not_a_cue": {}}


def strong_types() -> frozenset[str]:
    return frozenset(_load().get("strong", ()))


class QuestionTyper:
    """Types texts of one language with the cue dictionary, normalised like the account's FAQ."""

    def __init__(self, normalizer: Normalizer):
        data = _load()
        language = normalizer.language
        table: dict[str, str] = {}

        def add(phrase: str, kind: str) -> None:
            forms = {normalizer(phrase).folded_text, " ".join(fold(clean(phrase)).split())}
            for form in forms:
                if form and (form not in table or kind == _IGNORE):
                    table[form] = kind

        for phrase in data.get("not_a_cue", {}).get(language, ()):
            if isinstance(phrase, str):
                add(phrase, _IGNORE)
        for kind, per_language in data.get("cues", {}).items():
            if kind.startswith("_") or not isinstance(per_language, dict):
                continue
            for phrase in per_language.get(language, ()):
                if isinstance(phrase, str):
                    add(phrase, kind)
        self._table = table
        self.strong = strong_types()
        # Latin cues: first token -> [(cue tokens, type)], longest first (a dict probe per token, no regex:
        # the index types every phrasing of 10,000 entries); Chinese cues: one alternation, longest first
        self._heads: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        cjk = []
        for form, kind in table.items():
            if has_cjk(form):
                cjk.append(form)
            else:
                words = tuple(form.split())
                self._heads.setdefault(words[0], []).append((words, kind))
        for cues in self._heads.values():
            cues.sort(key=lambda c: -len(c[0]))
        self._cjk_re = re.compile("|".join(map(re.escape, sorted(cjk, key=len, reverse=True)))) if cjk else None

    def types(self, folded_text: str) -> frozenset[str]:
        """Question types of a normalised, folded text (`Normalized.folded_text`)."""
        if not folded_text:
            return frozenset()
        found: set[str] = set()
        tokens = folded_text.split()
        heads = self._heads
        n = len(tokens)
        i = 0
        while i < n:
            tok = tokens[i]
            for words, kind in heads.get(tok, ()):
                k = len(words)
                if tuple(tokens[i : i + k]) == words:
                    found.add(kind)
                    i += k
                    break
            else:
                if self._cjk_re is not None and has_cjk(tok):
                    found.update(self._table[m.group(0)] for m in self._cjk_re.finditer(tok))
                i += 1
        found.discard(_IGNORE)
        return frozenset(found)

    def entry_types(self, phrasings: Sequence[str] | Iterable[str]) -> frozenset[str]:
        """Types of an entry from the folded texts of its phrasings, canonical question first."""
        return self.entry_types_from(self.types(text) for text in phrasings)

    @staticmethod
    def entry_types_from(per_phrasing: Iterable[frozenset[str]]) -> frozenset[str]:
        """Types of an entry from the types of its phrasings, canonical question first: the question's types
        plus any type held by at least half of the phrasings (and by two)."""
        per_phrasing = list(per_phrasing)
        if not per_phrasing:
            return frozenset()
        counts: Counter[str] = Counter()
        for found in per_phrasing:
            counts.update(found)
        need = max(2, (len(per_phrasing) + 1) // 2)
        return per_phrasing[0] | {t for t, c in counts.items() if c >= need}
