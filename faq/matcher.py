"""FAQ matcher: a citizen's message -> answer / "did you mean..." / fallback (pure Python, no Django).

How a message is scored against one account's entries:

1. Both sides go through `faq.normalize.Normalizer` (teen-code, abbreviations, greetings, diacritic folding,
   traditional -> simplified Chinese). Features are word unigrams + bigrams (Chinese: character uni +
   bigrams), once diacritic-folded and once as typed (accented).
2. Every phrasing of an entry (question, each variant) is a document; an inverted index maps a feature to
   the documents holding it. A feature weighs its IDF over entries, so words in every entry ("thủ tục",
   "làm", "cho") count little. The message's words the index has never seen still count in its length,
   which is what pushes "giá vàng hôm nay" down to a fallback.
3. Candidates: documents accumulated from the posting lists of the message's features (very common
   features are skipped while collecting and added back for the short list), then the best `_CANDIDATES`
   are rescored with IDF cosine (accented cosine averaged in when the citizen typed accents) plus a
   rapidfuzz token ratio that forgives typos. An entry scores as its best phrasing, 0..100.
4. Decision: "answer" only when the top entry is above `answer_threshold` AND clearly ahead of the runner-up
   (a wrong confident answer is worse than a suggestion); "suggest" the top 3 entries above
   `suggest_threshold`; otherwise "fallback".

Limits: building indexes ~10,000 entries in about a second; one match takes well under 2 ms at that size on a
small machine; `match` never raises.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz

from faq.normalize import ACCENT_PREFIX, Normalized, Normalizer, ngrams

# Decision thresholds on the 0..100 score, tuned on the labelled dev set (see faq/bench.py, `tune`).
DEFAULT_ANSWER_THRESHOLD = 50.0
DEFAULT_SUGGEST_THRESHOLD = 22.0
# The top entry must lead the runner-up by this many points to be answered outright.
DEFAULT_MARGIN = 6.0

_CANDIDATES = 40  # documents rescored exactly per message; enough for 3 suggestions after de-duplication
_SUGGESTIONS = 3
_RANKED = 5
# Posting lists longer than this share of the documents are skipped while collecting candidates: they
# belong to words like "làm" that cannot tell entries apart, and walking them costs most of the time.
_COMMON_SHARE = 0.04
_COMMON_MIN = 200
_BIGRAM_WEIGHT = 1.0
# A message word the account's FAQ never uses still lengthens the message (it is probably about
# something else), at this fraction of the rarest known word's weight.
_UNKNOWN_UNIGRAM = 0.6
_UNKNOWN_BIGRAM = 0.25
_FUZZ_SHARE = 0.25  # share of the rapidfuzz ratio in the final score; the rest is IDF cosine
_MIN_TYPO_LEN = 4  # only words of this length or longer are corrected to a known word one edit away


@dataclass(frozen=True)
class Entry:
    key: str
    question: str
    variants: tuple[str, ...] = ()
    answer: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    key: str
    question: str  # the entry's canonical question
    score: float  # 0..100, rounded to 1 decimal


@dataclass(frozen=True)
class MatchResult:
    decision: str  # "answer" | "suggest" | "fallback"
    faq: str | None  # answered key, top suggestion key, or None for a fallback
    score: float  # top candidate's score (0 if none)
    suggestions: list[Candidate]  # "suggest": top 3; otherwise []
    candidates: list[Candidate]  # top 5 ranked, always


def _fallback(candidates: list[Candidate] | None = None) -> MatchResult:
    candidates = candidates or []
    return MatchResult("fallback", None, candidates[0].score if candidates else 0.0, [], candidates)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Matcher:
    """One account's FAQ index. Immutable after construction; safe to share between threads."""

    def __init__(
        self,
        entries: Iterable[Entry],
        *,
        language: str,
        synonyms: Mapping[str, str] | None = None,
        answer_threshold: float | None = None,
        suggest_threshold: float | None = None,
        margin: float | None = None,
    ):
        self.language = language
        self.answer_threshold = DEFAULT_ANSWER_THRESHOLD if answer_threshold is None else answer_threshold
        self.suggest_threshold = DEFAULT_SUGGEST_THRESHOLD if suggest_threshold is None else suggest_threshold
        self.margin = DEFAULT_MARGIN if margin is None else margin
        self._normalizer = Normalizer(language, synonyms)
        self._entries: list[Entry] = []
        seen: dict[str, int] = {}
        for entry in entries:
            if entry.key in seen:  # re-import semantics: the last entry with a key wins
                self._entries[seen[entry.key]] = entry
            else:
                seen[entry.key] = len(self._entries)
                self._entries.append(entry)
        self._build()

    def __len__(self) -> int:
        return len(self._entries)

    # ----------------------------------------------------------------------------------- index
    def _features(self, norm: Normalized) -> tuple[list[str], list[str]]:
        folded = ngrams(norm.folded)
        accented = [ACCENT_PREFIX + f for f in ngrams(norm.tokens)]
        return folded, accented

    def _build(self) -> None:
        doc_entry: list[int] = []
        doc_feats: list[frozenset[str]] = []
        doc_text: list[str] = []
        entry_feats: list[set[str]] = []
        for idx, entry in enumerate(self._entries):
            union: set[str] = set()
            for phrasing in (entry.question, *entry.variants):
                norm = self._normalizer(phrasing)
                folded, accented = self._features(norm)
                feats = frozenset(folded) | frozenset(accented)
                if not feats:
                    continue
                doc_entry.append(idx)
                doc_feats.append(feats)
                doc_text.append(norm.folded_text)
                union |= feats
            entry_feats.append(union)

        df: dict[str, int] = {}
        for feats in entry_feats:
            for f in feats:
                df[f] = df.get(f, 0) + 1
        n = max(len(self._entries), 1)
        self._idf_unknown = math.log((n + 1) / 0.5)
        weight: dict[str, float] = {}
        for f, count in df.items():
            w = math.log((n + 1) / (count + 0.5))
            if " " in f:
                w *= _BIGRAM_WEIGHT
            weight[f] = w
        self._weight = weight

        postings: dict[str, list[int]] = {}
        norms: list[float] = []
        for d, feats in enumerate(doc_feats):
            sq_folded = 0.0
            sq_accented = 0.0
            for f in feats:
                postings.setdefault(f, []).append(d)
                w2 = weight[f] ** 2
                if f[0] == ACCENT_PREFIX:
                    sq_accented += w2
                else:
                    sq_folded += w2
            norms.append((math.sqrt(sq_folded) or 1.0, math.sqrt(sq_accented) or 1.0))
        self._postings = {f: tuple(ds) for f, ds in postings.items()}
        self._doc_entry = doc_entry
        self._doc_feats = doc_feats
        self._doc_text = doc_text
        self._doc_norm = norms
        self._common = max(_COMMON_MIN, int(len(doc_feats) * _COMMON_SHARE))

        # typo correction: every deletion of a known folded word points back to it (SymSpell, 1 edit)
        vocab_df: dict[str, int] = {}
        for f, count in df.items():
            if f[0] != ACCENT_PREFIX and " " not in f and len(f) >= _MIN_TYPO_LEN and f.isalpha():
                vocab_df[f] = count
        deletes: dict[str, str] = {}
        for word, count in vocab_df.items():
            for d in _deletes(word):
                best = deletes.get(d)
                if best is None or vocab_df[best] < count:
                    deletes[d] = word
        self._vocab_df = vocab_df
        self._deletes = deletes

    # ----------------------------------------------------------------------------------- query
    def _correct(self, word: str) -> str | None:
        if word in self._vocab_df or len(word) < _MIN_TYPO_LEN or not word.isalpha() or not word.isascii():
            return None
        best = self._vocab_df.get(word)
        candidates = [self._deletes.get(word)] + [self._deletes.get(d) for d in _deletes(word)]
        candidates += [d for d in _deletes(word) if d in self._vocab_df]
        chosen: str | None = None
        for c in candidates:
            if c and (best is None or self._vocab_df[c] > best):
                chosen, best = c, self._vocab_df[c]
        return chosen

    def _query(self, norm: Normalized) -> tuple[dict[str, float], float, float, str]:
        folded = list(norm.folded)
        tokens = list(norm.tokens)
        for i, tok in enumerate(folded):
            fixed = self._correct(tok)
            if fixed is not None:
                folded[i] = fixed
                tokens[i] = fixed
        q_folded = ngrams(folded)
        q_accented = [ACCENT_PREFIX + f for f in ngrams(tokens)] if norm.accented else []
        weights: dict[str, float] = {}
        sq_folded = 0.0
        sq_accented = 0.0
        for f in dict.fromkeys(q_folded + q_accented):
            w = self._weight.get(f)
            if w is None:
                share = _UNKNOWN_BIGRAM if " " in f or (len(f) == 2 and "\u3400" <= f[0]) else _UNKNOWN_UNIGRAM
                unknown = share * self._idf_unknown
                if f[0] == ACCENT_PREFIX:
                    sq_accented += unknown**2
                else:
                    sq_folded += unknown**2
                continue
            weights[f] = w
            if f[0] == ACCENT_PREFIX:
                sq_accented += w * w
            else:
                sq_folded += w * w
        return weights, math.sqrt(sq_folded), math.sqrt(sq_accented), " ".join(folded)

    def _score_docs(self, norm: Normalized) -> dict[int, float]:
        weights, q_norm_f, q_norm_a, q_text = self._query(norm)
        if not weights or q_norm_f == 0:
            return {}
        acc: dict[int, float] = {}
        skipped: list[str] = []
        postings = self._postings
        for f, w in sorted(weights.items(), key=lambda kv: -kv[1]):
            docs = postings[f]
            if len(docs) > self._common:
                skipped.append(f)
                continue
            w2 = w * w
            for d in docs:
                acc[d] = acc.get(d, 0.0) + w2
        if not acc:  # only common words: score the documents holding the rarest of them
            f = skipped[0]
            w2 = weights[f] ** 2
            acc = dict.fromkeys(postings[f][: _CANDIDATES * 4], w2)
        doc_norm = self._doc_norm
        short = heapq.nlargest(
            _CANDIDATES, acc.items(), key=lambda kv: kv[1] / (doc_norm[kv[0]][0] + doc_norm[kv[0]][1])
        )
        scores: dict[int, float] = {}
        use_accents = norm.accented and q_norm_a > 0
        for d, _ in short:
            feats = self._doc_feats[d]
            dot_f = 0.0
            dot_a = 0.0
            for f, w in weights.items():
                if f in feats:
                    if f[0] == ACCENT_PREFIX:
                        dot_a += w * w
                    else:
                        dot_f += w * w
            n_f, n_a = doc_norm[d]
            cosine = dot_f / (q_norm_f * n_f)
            if use_accents:
                cosine = 0.5 * cosine + 0.5 * dot_a / (q_norm_a * n_a)
            ratio = fuzz.token_sort_ratio(q_text, self._doc_text[d]) / 100.0
            scores[d] = 100.0 * ((1 - _FUZZ_SHARE) * cosine + _FUZZ_SHARE * ratio)
        return scores

    def rank(self, text: str) -> list[tuple[int, float]]:
        """Entries (index, score) best first; each entry scores as its best phrasing."""
        norm = self._normalizer(text)
        if not norm.folded:
            return []
        best: dict[int, float] = {}
        for d, s in self._score_docs(norm).items():
            e = self._doc_entry[d]
            if s > best.get(e, -1.0):
                best[e] = s
        return sorted(best.items(), key=lambda kv: -kv[1])

    def match(self, text: str) -> MatchResult:
        try:
            ranked = self.rank(text)
        except Exception:  # noqa: BLE001 - a chat reply must never fail because of the matcher
            return _fallback()
        candidates = [self._candidate(e, s) for e, s in ranked[:_RANKED]]
        if not candidates:
            return _fallback()
        top = ranked[0][1]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if top >= self.answer_threshold and top - runner_up >= self.margin:
            return MatchResult("answer", candidates[0].key, candidates[0].score, [], candidates)
        if top >= self.suggest_threshold:
            suggestions = candidates[:_SUGGESTIONS]
            return MatchResult("suggest", suggestions[0].key, candidates[0].score, suggestions, candidates)
        return _fallback(candidates)

    def _candidate(self, idx: int, score: float) -> Candidate:
        entry = self._entries[idx]
        return Candidate(entry.key, entry.question, round(min(max(score, 0.0), 100.0), 1))
