"""FAQ matcher: a citizen's message -> answer / "did you mean..." / fallback (pure Python, no Django).

1. Ranking (BM25F). Every field a civil servant wrote is evidence, weighted (`FIELD_WEIGHTS`): the question,
   the variants, the tags and the answer. Both sides go through `faq.normalize.Normalizer` (diacritic folding,
   traditional -> simplified Chinese, English stemming, the language dictionary); terms are word unigrams and
   bigrams (Chinese: character unigrams and bigrams), once diacritic-folded and once as typed, so a message typed
   with accents gains where the accents agree ("mưa" rain is not "mua" buy) and one typed without still matches.
   An entry's score is the BM25 sum over the message's terms of idf x saturated, length-normalised, field-weighted
   term frequency. A message word of four letters or more the account never uses is read as the known word one
   edit away (`_TYPO_WEIGHT` of its weight: the correction may be wrong).
2. Decision. Named features of the ranked list (`Analysis.features`: the top score relative to the message, the
   lead over the runner-up, how much of the message's weight and of its salient words the top entry covers,
   how much of the salient words the whole account never uses, ...; `faq.decision.FEATURE_NAMES`) go to a
   decision rule the caller injects: the run-time index (`faq.index`) gives the calibrated one of
   `faq.calibration` (logistic regressions fitted on data generated from the corpus, never on labelled citizen
   messages, shipped as data); without a rule the matcher suggests and never answers outright. The matcher
   imports neither the calibration nor its data.
   Salience comes from a general-language word-frequency list (`faq.salience`), not from hand-made stop lists:
   "thời tiết hà nội mai thế nào" asked of the transport department leaves "tiết" unexplained and falls back.

Limits: building the index of ~10,000 entries takes about 1.7 s CPU; one match well under 2 ms at that
size on a small machine; `match` never raises. An index is immutable and safe to share between threads (its
lazily filled caches only ever gain entries computed from immutable data).
"""

from __future__ import annotations

import gc
import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from faq.decision import FEATURE_NAMES, Decide, suggest_only
from faq.normalize import ACCENT_PREFIX, Normalized, Normalizer, has_cjk, ngrams
from faq.salience import Salience

# Field weights of BM25F. Chosen on generated data, not on citizen messages: top-1 of phrasings left out of the
# index (faq.lab.fit.generate, 3,554 lines) was 67.6% with answer 0.25 / tags 0.5, 69.5% answer 0.5, 71.5%
# answer 0.5 / tags 1, 72.4% with every field at 1 (top-3 90.0 -> 93.1%): what a civil servant wrote anywhere in
# an entry is evidence as good as its question; BM25's length normalisation per field keeps long answers in check.
FIELD_WEIGHTS = {"question": 1.0, "variants": 1.0, "tags": 1.0, "answer": 1.0}
# BM25 term-frequency saturation. Fields here are short (a phrasing, a few tags) and a repeated word across an
# entry's variants is evidence, so less saturation than the usual 1.2; chosen like the field weights on generated
# left-out phrasings: top-1 72.4% at 1.2, 72.9% at 1.6, 73.5% at 3, 74.5% at 5, 74.3% at 10.
_K1 = 5.0
# BM25 length normalisation: full (a word in a short phrasing says more than in a long one); generated left-out
# phrasings at k1 5: top-1 73.0% at 0.5, 74.5% at the usual 0.75, 75.4% at 0.9, 76.0% at 1.
_B = 1.0
_TYPO_WEIGHT = 0.7  # a word read as the known word one edit away weighs this share of it
_MIN_TYPO_LEN = 4  # shorter words have too many neighbours one edit away
_CANDIDATES = 30  # entries whose common-term contributions are added back (enough for 5 ranked)
# Posting lists longer than this share of the entries are skipped while collecting candidates ("thủ tục",
# "làm" are in most entries: walking them costs most of the time and tells nothing), then added back.
_COMMON_SHARE = 0.02
_COMMON_MIN = 100
_SUGGESTIONS = 3
_RANKED = 5
_CLAUSE_CHARS = 1000  # a question is in the first 1,000 characters or the message is not a question


@dataclass(frozen=True)
class Entry:
    key: str
    question: str
    variants: tuple[str, ...] = ()
    answer: str = ""
    tags: tuple[str, ...] = ()


def entries_of(account: dict) -> list[Entry]:
    """The entries of one account of the FAQ interchange JSON (``{"faqs": [{"key", "question", ...}]}``)."""
    return [
        Entry(
            key=f["key"],
            question=f["question"],
            variants=tuple(f.get("variants") or ()),
            answer=f.get("answer", ""),
            tags=tuple(f.get("tags") or ()),
        )
        for f in account["faqs"]
    ]


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


@dataclass(frozen=True)
class Analysis:
    """The ranked entries of a message (index, BM25 score relative to the message's own weight) and the named
    features of that ranking the decision rule reads (`FEATURE_NAMES`); empty when nothing matched."""

    ranked: list[tuple[int, float]]
    features: dict[str, float] = field(default_factory=dict)


def _fallback(candidates: list[Candidate] | None = None) -> MatchResult:
    candidates = candidates or []
    return MatchResult("fallback", None, candidates[0].score if candidates else 0.0, [], candidates)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _terms(norm: Normalized) -> list[str]:
    """Index terms of a phrasing: folded unigrams + bigrams (Chinese: character unigrams + bigrams), plus the
    accented unigrams that differ from their folded spelling (accented bigrams would double the index for
    little: the accented unigrams already tell "mưa" from "mua")."""
    folded = ngrams(norm.folded)
    if not norm.accented:
        return folded
    return folded + [ACCENT_PREFIX + t for t, f in zip(norm.tokens, norm.folded, strict=True) if t != f]


def _answer_terms(folded: list[str]) -> list[str]:
    """Index terms of an answer: folded unigrams for Latin text (its bigrams and accents cost build time and
    add little to a long text), character unigrams + bigrams for Chinese (a single character says little)."""
    if has_cjk("".join(folded)):
        return ngrams(folded)
    return folded


def _words(norm: Normalized) -> list[str]:
    """The message's words for coverage features: folded words; Chinese runs as character bigrams (a run of
    one character as itself)."""
    return _folded_words(norm.folded)


def _folded_words(folded) -> list[str]:
    out: list[str] = []
    for tok in folded:
        if has_cjk(tok):
            out.extend([tok] if len(tok) == 1 else [tok[i : i + 2] for i in range(len(tok) - 1)])
        else:
            out.append(tok)
    return list(dict.fromkeys(out))


class Matcher:
    """One account's FAQ index. Immutable after construction; safe to share between threads."""

    def __init__(
        self,
        entries: Iterable[Entry],
        *,
        language: str,
        synonyms: Mapping[str, str] | None = None,
        decide: Decide | None = None,
    ):
        self.language = language
        # The rule is the caller's (faq.index injects the shipped calibration): without one, never answer outright.
        self.decide: Decide = decide if decide is not None else suggest_only
        self._normalizer = Normalizer(language, synonyms)
        self._salience = Salience(self._normalizer.language)
        self._entries: list[Entry] = []
        seen: dict[str, int] = {}
        for entry in entries:
            if entry.key in seen:  # re-import semantics: the last entry with a key wins
                self._entries[seen[entry.key]] = entry
            else:
                seen[entry.key] = len(self._entries)
                self._entries.append(entry)
        gc_was_enabled = gc.isenabled()
        gc.disable()  # the build allocates millions of objects and frees none: collections would only cost time
        try:
            self._build()
        finally:
            if gc_was_enabled:
                # The index lives as long as the process serves the account: move it out of the cyclic GC's view,
                # or every full collection re-walks millions of index objects mid-request (the p99 pauses).
                # Refcounting still frees an old index when its account is rebuilt.
                gc.freeze()
                gc.enable()

    def __len__(self) -> int:
        return len(self._entries)

    # ------------------------------------------------------------------------------------------ index
    def _fields(self, entry: Entry) -> list[tuple[float, list[str]]]:
        norm = self._normalizer
        out = [(FIELD_WEIGHTS["question"], _terms(norm(entry.question)))]
        variants: list[str] = []
        for v in entry.variants:
            variants += _terms(norm(v))
        out.append((FIELD_WEIGHTS["variants"], variants))
        tags: list[str] = []
        for t in entry.tags:
            tags += _terms(norm(t))
        out.append((FIELD_WEIGHTS["tags"], tags))
        out.append((FIELD_WEIGHTS["answer"], _answer_terms(norm.plain_folded(entry.answer)) if entry.answer else []))
        return out

    def _build(self) -> None:
        # pass 1: every field's terms, and the average length of each field
        per_entry = [self._fields(entry) for entry in self._entries]
        n_entries = len(self._entries) or 1
        avg = [max(sum(len(f[i][1]) for f in per_entry) / n_entries, 1.0) for i in range(4)]
        # pass 2: length-normalised, field-weighted term frequency per entry, appended to the term's postings
        b = _B
        postings: dict[str, tuple[list[int], list[float]]] = {}
        get = postings.get
        for e, fields in enumerate(per_entry):
            tf: dict[str, float] = {}
            for i, (w, terms) in enumerate(fields):
                if not terms:
                    continue
                norm = w / (1.0 - b + b * len(terms) / avg[i])
                tf_get = tf.get
                for t in terms:
                    tf[t] = tf_get(t, 0.0) + norm
            for t, f in tf.items():
                p = get(t)
                if p is None:
                    postings[t] = ([e], [f])
                else:
                    p[0].append(e)
                    p[1].append(f)
        # pass 3: BM25 impact of each posting (idf x saturated term frequency)
        k1 = _K1
        k1_1 = k1 + 1.0
        self._idf = idf = {}
        for t, (es, tfs) in postings.items():
            d = len(es)
            weight = idf[t] = math.log(1.0 + (n_entries - d + 0.5) / (d + 0.5))
            tfs[:] = [weight * f * k1_1 / (f + k1) for f in tfs]
        self._idf_unknown = math.log(1.0 + (n_entries + 0.5) / 0.5)  # a word no entry holds: rarest of all
        self._postings = postings
        self._common = max(_COMMON_MIN, int(_COMMON_SHARE * len(self._entries)))
        self._common_maps: dict[str, dict[int, float]] = {}
        self._entry_sets: dict[int, tuple[frozenset[str], frozenset[str], tuple[frozenset[str], ...]]] = {}
        self._vocab_deletes: dict[str, list[str]] | None = None
        self._texts: dict[int, tuple[str, ...]] = {}

    def _entry_words(self, e: int) -> tuple[frozenset[str], frozenset[str], tuple[frozenset[str], ...], frozenset[str]]:
        """(words of every field, words of the phrasings and tags, words of each phrasing, every field's words as
        written, with their accents) of an entry, as `_words` spells them; computed once per entry on first use."""
        found = self._entry_sets.get(e)
        if found is None:
            entry, norm = self._entries[e], self._normalizer
            normed = [norm(p) for p in (entry.question, *entry.variants)]
            phrasings = tuple(frozenset(_words(n)) for n in normed)
            tag_norms = [norm(t) for t in entry.tags]
            tags = frozenset(w for n in tag_norms for w in _words(n))
            phrasing_words = frozenset().union(*phrasings) | tags
            answer = frozenset(_folded_words(norm.plain_folded(entry.answer))) if entry.answer else frozenset()
            answer_norm = norm(entry.answer) if entry.answer and self._normalizer.language == "vi" else None
            written = frozenset(
                t for n in (*normed, *tag_norms, *([answer_norm] if answer_norm else [])) for t in n.tokens
            )
            found = self._entry_sets[e] = (phrasing_words | answer, phrasing_words, phrasings, written)
        return found

    def _correct(self, word: str) -> str | None:
        """The known word one edit away (insert, delete, substitute, swap) from an unknown word; the one most
        entries use when there are several (ties: alphabetical, so the choice is stable)."""
        if self._vocab_deletes is None:
            index: dict[str, list[str]] = {}
            for t in self._postings:
                if " " in t or t[:1] == ACCENT_PREFIX or len(t) < _MIN_TYPO_LEN - 1 or has_cjk(t) or t.isdigit():
                    continue
                for d in (t, *_deletes(t)):
                    index.setdefault(d, []).append(t)
            self._vocab_deletes = index
        index = self._vocab_deletes
        found: set[str] = set()
        for d in (word, *_deletes(word)):
            found.update(index.get(d, ()))
        found.discard(word)
        if not found:
            return None
        return min(found, key=lambda t: (-len(self._postings[t][0]), t))

    # ------------------------------------------------------------------------------------------ scoring
    def _query(self, norm: Normalized) -> tuple[dict[str, float], list[tuple[str, float]]]:
        """(term -> weight, [(word, weight)]) of a message; unknown words of four letters or more are read as the
        known word one edit away at `_TYPO_WEIGHT`."""
        postings = self._postings
        terms: dict[str, float] = dict.fromkeys(_terms(norm), 1.0)
        words = [(w, 1.0) for w in _words(norm)]
        if self._normalizer.language == "zh":
            # Chinese has no spaces: a character pair is a word when the account's FAQ or the everyday-language list
            # knows it; the others straddle two words ("能不" of "能不能") and would count as unexplained words
            known = self._salience.known
            words = [(w, v) for w, v in words if len(w) < 2 or not has_cjk(w) or w in postings or known(w)]
        for i, (w, _) in enumerate(words):
            if w in postings or len(w) < _MIN_TYPO_LEN or has_cjk(w) or w.isdigit():
                continue
            fixed = self._correct(w)
            if fixed is not None:
                terms.pop(w, None)
                terms[fixed] = max(terms.get(fixed, 0.0), _TYPO_WEIGHT)
                words[i] = (fixed, _TYPO_WEIGHT)
        return terms, words

    def _scores(self, terms: Mapping[str, float]) -> dict[int, float]:
        postings, common = self._postings, self._common
        acc: dict[int, float] = {}
        get = acc.get
        skipped: list[str] = []
        for t, qw in terms.items():
            p = postings.get(t)
            if p is None:
                continue
            es, imps = p
            if len(es) > common:
                skipped.append(t)
                continue
            if qw == 1.0:
                for e, w in zip(es, imps):  # noqa: B905 - same length by construction
                    acc[e] = get(e, 0.0) + w
            else:
                for e, w in zip(es, imps):  # noqa: B905
                    acc[e] = get(e, 0.0) + qw * w
        if skipped:
            if acc:
                short = heapq.nlargest(_CANDIDATES, acc, key=acc.__getitem__) if len(acc) > _CANDIDATES else acc
            else:  # only common words: the entries where the rarest of them weighs most
                rare = max(skipped, key=lambda t: self._idf[t])
                m = self._common_map(rare)
                short = heapq.nlargest(_CANDIDATES, m, key=m.__getitem__)
            acc = {e: acc.get(e, 0.0) for e in short}
            for t in skipped:
                m, qw = self._common_map(t), terms[t]
                for e in acc:
                    acc[e] += qw * m.get(e, 0.0)
        return acc

    def _common_map(self, term: str) -> dict[int, float]:
        m = self._common_maps.get(term)
        if m is None:
            es, imps = self._postings[term]
            m = self._common_maps[term] = dict(zip(es, imps, strict=True))
        return m

    def analyse(self, text: str) -> Analysis:
        """Ranked entries (best first, at most `_RANKED`) and the decision features of a message."""
        text = text if isinstance(text, str) else str(text)
        norm = self._normalizer(text[: _CLAUSE_CHARS * 2])
        if not norm.folded:
            return Analysis([])
        terms, words = self._query(norm)
        accents = {f: t for t, f in zip(norm.tokens, norm.folded, strict=True) if t != f} if norm.accented else None
        acc = self._scores(terms)
        if not acc:
            return Analysis([], self._features(terms, words, [], accents))
        ranked = heapq.nlargest(_RANKED, acc.items(), key=lambda kv: (kv[1], -kv[0]))
        mass = (_K1 + 1.0) * sum(qw * self._idf.get(t, self._idf_unknown) for t, qw in terms.items()) or 1.0
        ranked = [(e, s / mass) for e, s in ranked]
        return Analysis(ranked, self._features(terms, words, ranked, accents))

    def _features(
        self,
        terms: Mapping[str, float],
        words: list[tuple[str, float]],
        ranked: list[tuple[int, float]],
        accents: Mapping[str, str] | None = None,
    ) -> dict[str, float]:
        """`accents`: folded word -> the word as the citizen typed it, for the words typed with diacritics: such a
        word is explained by an entry only where the entry writes it with the same accents ("giá vàng", gold,
        is not "tạm vắng", temporarily absent)."""
        idf, unknown, sal = self._idf, self._idf_unknown, self._salience
        w_idf = [(w, qw * idf.get(w, unknown)) for w, qw in words]
        w_sal = [(w, qw * sal(w)) for w, qw in words]
        total_idf = sum(v for _, v in w_idf) or 1.0
        total_sal = sum(v for _, v in w_sal) or 1.0
        max_sal = max((v for _, v in w_sal), default=0.0) or 1.0
        out = dict.fromkeys(FEATURE_NAMES, 0.0)
        out["length"] = math.log1p(len(words)) / 3.0
        out["salient_unknown"] = sum(v for w, v in w_sal if w not in idf) / total_sal
        if not ranked:
            out["salient_missed"] = 1.0
            return out
        s1 = ranked[0][1]
        s2 = ranked[1][1] if len(ranked) > 1 else 0.0
        accents = accents or {}

        def explained(e: int) -> tuple[frozenset[str], frozenset[str], tuple[frozenset[str], ...]]:
            every, phrasing, per_phrasing, written = self._entry_words(e)
            if accents:
                wrong = {w for w, typed in accents.items() if typed not in written}
                every, phrasing = every - wrong, phrasing - wrong
            return every, phrasing, per_phrasing

        every, phrasing, per_phrasing = explained(ranked[0][0])
        out["score"] = s1
        out["lead"] = (s1 - s2) / s1 if s1 > 0 else 0.0
        out["coverage"] = sum(v for w, v in w_idf if w in every) / total_idf
        out["phrasing_coverage"] = sum(v for w, v in w_idf if w in phrasing) / total_idf
        out["salient_coverage"] = sum(v for w, v in w_sal if w in every) / total_sal
        out["salient_missed"] = max((v for w, v in w_sal if w not in every), default=0.0) / max_sal
        msg = {w for w, _ in words}
        out["entry_side"] = self._entry_side(msg, per_phrasing)
        held = sum(v for w, v in w_idf if w in every) or 1.0
        text = " ".join(w for w, _ in words)
        out["closeness"] = self._closeness(text, ranked[0][0])
        if len(ranked) > 1:
            every2, phrasing2, per_phrasing2 = explained(ranked[1][0])
            out["coverage_lead"] = out["coverage"] - sum(v for w, v in w_idf if w in every2) / total_idf
            out["distinct"] = sum(v for w, v in w_idf if w in every and w not in every2) / held
            out["closeness_lead"] = out["closeness"] - self._closeness(text, ranked[1][0])
            out["phrasing_lead"] = out["phrasing_coverage"] - sum(v for w, v in w_idf if w in phrasing2) / total_idf
            out["salient_lead"] = out["salient_coverage"] - sum(v for w, v in w_sal if w in every2) / total_sal
            out["entry_side_lead"] = out["entry_side"] - self._entry_side(msg, per_phrasing2)
        else:
            out["coverage_lead"] = out["coverage"]
            out["distinct"] = 1.0
            out["closeness_lead"] = out["closeness"]
            out["phrasing_lead"] = out["phrasing_coverage"]
            out["salient_lead"] = out["salient_coverage"]
            out["entry_side_lead"] = out["entry_side"]
        return out

    def _entry_side(self, msg: set[str], per_phrasing: tuple[frozenset[str], ...]) -> float:
        """The best share of one phrasing's idf weight that the message's words hold."""
        idf, unknown = self._idf, self._idf_unknown
        best = 0.0
        for p in per_phrasing:
            weight = sum(idf.get(w, unknown) for w in p) or 1.0
            best = max(best, sum(idf.get(w, unknown) for w in p if w in msg) / weight)
        return best

    def _closeness(self, text: str, e: int) -> float:
        """How close the message's words are to the entry's closest phrasing, word order aside (0..1)."""
        return max(fuzz.token_set_ratio(text, p) for p in self._phrasing_texts(e)) / 100.0

    def _phrasing_texts(self, e: int) -> tuple[str, ...]:
        found = self._texts.get(e)
        if found is None:
            entry, norm = self._entries[e], self._normalizer
            found = self._texts[e] = tuple(" ".join(_words(norm(p))) for p in (entry.question, *entry.variants))
        return found

    # ------------------------------------------------------------------------------------------ public
    def rank(self, text: str) -> list[tuple[int, float]]:
        """Entries (index, score relative to the message) best first, at most 5."""
        return self.analyse(text).ranked

    def match(self, text: str) -> MatchResult:
        try:
            analysis = self.analyse(text)
            decision = self.decide(analysis.features) if analysis.ranked else "fallback"
        except Exception:  # noqa: BLE001 - a chat reply must never fail because of the matcher
            return _fallback()
        candidates = [self._candidate(e, s) for e, s in analysis.ranked[:_RANKED]]
        if not candidates or decision == "fallback":
            return _fallback(candidates)
        if decision == "answer":
            return MatchResult("answer", candidates[0].key, candidates[0].score, [], candidates)
        suggestions = candidates[:_SUGGESTIONS]
        return MatchResult("suggest", suggestions[0].key, candidates[0].score, suggestions, candidates)

    def _candidate(self, idx: int, score: float) -> Candidate:
        entry = self._entries[idx]
        return Candidate(entry.key, entry.question, round(min(max(100.0 * score, 0.0), 100.0), 1))
