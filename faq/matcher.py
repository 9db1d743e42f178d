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
   are rescored with an asymmetric IDF coverage (`_similarity`: the share of a phrasing's weight present in
   the message, and the share of the message's weight the entry explains; the accented figure is averaged
   in when the citizen typed accents) plus a
   rapidfuzz token ratio that forgives typos. A message word no phrasing knows but the entry's answer mentions
   counts as covered for that entry (`_ANSWER_SHARE`). An entry scores as its best phrasing, 0..100. A word one edit
   away from a known word is corrected but weighs `_TYPO_WEIGHT` of it (the correction may be wrong).
   A long message is also scored sentence by sentence and by pairs of neighbouring sentences; an entry keeps
   its best score (a sentence discounted by `_CLAUSE_DISCOUNT`), so a question wrapped in a story is found.
4. Decision: "answer" only when the top entry is above `answer_threshold` AND clearly ahead of the runner-up
   (a wrong confident answer is worse than a suggestion); "suggest" the top 3 entries above
   `suggest_threshold`; otherwise "fallback".

Limits: building indexes ~10,000 entries in about a second; one match takes well under 2 ms at that size on a
small machine; `match` never raises.
"""

from __future__ import annotations

import gc
import heapq
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz

from faq.calibration import Calibration, load_calibration
from faq.normalize import ACCENT_PREFIX, Normalized, Normalizer, clean, features, fold
from faq.question_types import QuestionTyper

# Decision thresholds on the 0..100 score, tuned on the labelled dev set (faq/bench.py `tune`: maximise
# correct + helped/2 - 3 x wrong); the 2-fold split check in the benchmark report shows how well they hold.
DEFAULT_ANSWER_THRESHOLD = 34.0
# Low on purpose: below an answer, three suggestions cost the citizen little; only near-zero scores
# (nothing in common with any entry) fall back.
DEFAULT_SUGGEST_THRESHOLD = 10.0
# The top entry must lead the runner-up by this many points to be answered outright. `tune` on the whole dev set
# picks 4 (it picked 10 before answers were indexed): dev 90.0% correct / 1.9% wrong vs 86.2% / 1.2% at 10; the
# repeated 5-fold CV of that tuning procedure, i.e. what to expect on unseen messages, gives 89.6% / 1.9%.
DEFAULT_MARGIN = 4.0

_CANDIDATES = 30  # entries rescored exactly per message; enough for 3 suggestions after de-duplication
_SUGGESTIONS = 3
_RANKED = 5
# Posting lists longer than this share of the documents are skipped while collecting candidates: they
# belong to words like "làm" that cannot tell entries apart, and walking them costs most of the time.
_COMMON_SHARE = 0.02
_COMMON_MIN = 100
# A message word the account's FAQ never uses still lengthens the message (it is probably about
# something else), at this fraction of the rarest known word's weight.
_UNKNOWN_UNIGRAM = 0.6
_UNKNOWN_BIGRAM = 0.25
# Share of "how much of the message the whole entry (all phrasings + tags) covers" in the score.
_UNION_SHARE = 0.2
_FUZZ_CHANCE = 45.0  # token_sort_ratio of two unrelated questions of similar length
_FUZZ_SHARE = 0.25  # share of the rapidfuzz ratio in the final score; the rest is IDF coverage
_MIN_TYPO_LEN = 4  # only words of this length or longer are corrected to a known word one edit away
# Weight of a word bigram relative to its IDF (1: a bigram counts as much as a rare word).
_BIGRAM_WEIGHT = 1.0
# Share of the accented cosine when the citizen typed diacritics ("mưa" rain is not "mua" buy).
_ACCENT_SHARE = 0.5
# A word corrected to a known word one edit away weighs this much of that word (the correction may be wrong).
# Repeated 5-fold CV on the dev set: 0.7-0.8 a flat best (held-out correct 89.7 -> 90.0%, helped and wrong
# unchanged), 0.5-0.65 no better than 0.6; dev, extra, polite and styled sets unchanged from 0.6 to 0.8.
_TYPO_WEIGHT = 0.75
# Phrasing similarity = entry_cov ** _ENTRY_EXP * message_cov ** (1 - _ENTRY_EXP), asymmetric on purpose: a
# message that holds the whole phrasing is about it however long the message is (entry side weighs more), and
# the message side is measured against the entry's union of phrasings and tags (the words a citizen uses are
# spread over the variants). 0.5 with the phrasing alone on the message side would be the IDF cosine; chosen
# by repeated 5-fold cross-validation on the dev set (held-out correct +1.3 pt, wrong -0.9 pt vs the cosine).
_ENTRY_EXP = 0.6
_MSG_DOC_SHARE = 0.0  # share of the single phrasing (vs the entry's union) on the message side
# A message word no phrasing or tag of the account holds would count as "unknown" (the message is about something
# else); when the entry's ANSWER holds it, it explains the message for that entry at this share of its weight: an
# answer names the situations it covers ("epilepsy", "keep driving while you wait"). Only such words: answer words
# the phrasings know would let long answers outscore focused phrasings. Dev set: correct 83.9 -> 85.4%, helped and
# wrong unchanged (98.5%, 1.2%); repeated 5-fold CV 86.9 -> 87.1% correct, wrong 2.2% both.
_ANSWER_SHARE = 1.0
_KEY_TERMS = 2  # the message's most distinctive known words, which the answered entry must hold
# Long messages (at least this many tokens after normalisation) are also scored sentence by sentence.
_CLAUSE_MIN_TOKENS = 10
_CLAUSE_CHARS = 1000  # a question is in the first 1,000 characters or the message is not a question
_MAX_CLAUSES = 12  # bounds the work on a long message: 12 extra scorings at most
_CLAUSE_DISCOUNT = 0.9  # a sentence alone lost the context around it: it must score clearly higher to win
# Question-type agreement (`faq.question_types`), as factors on the score so a weak match stays weak: an entry
# with a phrasing that asks the same strong thing as the message (fee, duration, place, ...) gains
# `_TYPE_BOOST`, a weak one (procedure, yes/no) `_TYPE_WEAK_BOOST`; when the message asks one of the
# `_CONFLICT_TYPES` ("how much", "how long": answers that carry figures another entry does not) and the entry
# is typed with other strong types and no phrasing of it asks that, it loses `_TYPE_PENALTY`. Repeated 5-fold CV.
# (CV: a strong-agreement boost of 0.1-0.2 raised wrong answers as much as it helped, so it is off; the conflict
# penalty is the part that generalises, flat between 0.2 and 0.3.)
_TYPE_BOOST = 0.0
_TYPE_WEAK_BOOST = 0.05
_TYPE_PENALTY = 0.2
_CONFLICT_TYPES = frozenset({"fee", "duration"})
# A lead earned by type agreement (the top entry asks what the message asks, the runner-up does not) is a real
# lead: the margin rule asks for this share of the usual margin (CV: 0.3-0.5 answered more but wrongly as often,
# so 1.0, off, until the type cues are richer).
_TYPE_LEAD_MARGIN = 1.0
_SENTENCE_RE = re.compile(r"[.?!;\n\u3002\uff1f\uff01\uff1b]+")
# Question focus: a message of several clauses is also scored on its LAST question-like clause plus the
# clause before it (no discount), the rest of the message counting as weak context at this share of its
# word weights. Chinese run-on messages separate clauses with commas, so "，" splits clauses too.
_CLAUSE_RE = re.compile(r"[^.?!;\n\u3002\uff1f\uff01\uff1b\uff0c]+[.?!;\n\u3002\uff1f\uff01\uff1b\uff0c]*")
_CONTEXT_WEIGHT = 0.3
# Question cues (diacritic-folded, whole words; Chinese: substrings) that make a clause question-like.
_QUESTION_WORDS = frozenset(
    "khong ko k hong hok gi j sao nao dau bao nhieu bn lau chua nhi ha how what where when which who why".split()
)
_QUESTION_OPENERS = frozenset("can could do does did is are should may will would".split())  # English, first word
_QUESTION_PHRASES = ("the nao", "ra sao", "lam sao", "duoc khong", "co phai", "can i", "do i")
_QUESTION_CJK = re.compile("[吗吧呢么哪几啥]|多少|什么|怎|如何|是否|能否|可否|请问")
_FOCUS_MIN_TOKENS = 6  # shorter messages are their own question


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


def _similarity(entry_cov: float, message_cov: float, union_cov: float) -> float:
    """Phrasing similarity from the share of the phrasing's weight the message holds (entry side) and the
    share of the message's weight the phrasing (or the whole entry) explains (message side)."""
    msg = _MSG_DOC_SHARE * message_cov + (1 - _MSG_DOC_SHARE) * union_cov
    return entry_cov**_ENTRY_EXP * msg ** (1 - _ENTRY_EXP)


def decide_ranked(top2: list[tuple[float, float]], answer: float, suggest: float, margin: float) -> str:
    """Decision from the two best (score, type agreement 0/1): "answer" above `answer` and `margin` ahead of the
    runner-up (a smaller margin when only the top entry asks what the message asks), "suggest" above `suggest`,
    else "fallback"."""
    if not top2:
        return "fallback"
    top, agree = top2[0]
    runner_up, runner_agree = top2[1] if len(top2) > 1 else (0.0, 0.0)
    if agree and not runner_agree:
        margin *= _TYPE_LEAD_MARGIN
    if top >= answer and top - runner_up >= margin:
        return "answer"
    if top >= suggest:
        return "suggest"
    return "fallback"


def _type_adjust(
    message: frozenset[str], entry: tuple[frozenset[str], frozenset[str]], strong: frozenset[str]
) -> float:
    """Score factor for question-type agreement between a typed message and an entry (own types, any phrasing's
    types); 1.0 when the entry is untyped."""
    own, asked = entry
    if not asked:
        return 1.0
    if message & asked & strong:
        return 1.0 + _TYPE_BOOST
    if message & _CONFLICT_TYPES and own & strong:
        return 1.0 - _TYPE_PENALTY
    return 1.0 + _TYPE_WEAK_BOOST if message & asked else 1.0


def is_question_like(clause: str) -> bool:
    """A clause that asks: it ends with a question mark or holds a question cue (vi/en/zh)."""
    if "?" in clause or "\uff1f" in clause:
        return True
    if _QUESTION_CJK.search(clause) is not None:
        return True
    words = fold(clean(clause)).split()
    words = [w.strip(".,!;:\"'()") for w in words]
    if not words:
        return False
    if words[0] in _QUESTION_OPENERS or any(w in _QUESTION_WORDS for w in words):
        return True
    joined = " " + " ".join(words) + " "
    return any(" " + p + " " in joined for p in _QUESTION_PHRASES)


def split_clauses(text: str) -> list[str]:
    """Sentences and Chinese comma clauses of a message, with their punctuation, blanks dropped."""
    return [c for c in _CLAUSE_RE.findall(text) if c.strip(" .?!;\n\u3002\uff1f\uff01\uff1b\uff0c")]


@dataclass(frozen=True)
class _Exclusion:
    """Offline self-supervision (`faq.calibration`): score as if one phrasing of an entry (or the whole entry) were
    not in the index, without rebuilding it. IDF weights stay those of the full index (a small bias); words only
    the excluded material holds are treated as words the account does not know."""

    entry: int
    whole: bool  # the whole entry is left out (an "account has no FAQ for this" negative)
    hidden: frozenset[str]  # features known only through the excluded material
    union: tuple[frozenset[str], float]  # the entry's union of features without the excluded phrasing
    docs: tuple  # the entry's remaining phrasings (as `Matcher._docs_of`)
    types: tuple[frozenset[str], frozenset[str]]  # the entry's question types without the excluded phrasing


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
        calibrated: bool | None = None,
    ):
        self.language = language
        # The answer decision is the fixed rule (threshold + margin). `calibrated=True` opts in to the model of
        # `faq.calibration` (fitted on the corpus alone) when its file exists. Not the default: measured on the dev
        # set it answers far less for the same wrong-answer rate (see that module's docstring).
        calibrated = bool(calibrated) and answer_threshold is None and margin is None
        self.calibration: Calibration | None = load_calibration() if calibrated else None
        self.answer_threshold = DEFAULT_ANSWER_THRESHOLD if answer_threshold is None else answer_threshold
        self.suggest_threshold = DEFAULT_SUGGEST_THRESHOLD if suggest_threshold is None else suggest_threshold
        self.margin = DEFAULT_MARGIN if margin is None else margin
        self._normalizer = Normalizer(language, synonyms)
        self._typer = QuestionTyper(self._normalizer)
        self._entries: list[Entry] = []
        seen: dict[str, int] = {}
        for entry in entries:
            if entry.key in seen:  # re-import semantics: the last entry with a key wins
                self._entries[seen[entry.key]] = entry
            else:
                seen[entry.key] = len(self._entries)
                self._entries.append(entry)
        # The build allocates millions of small objects and none of them form cycles: the cyclic GC would
        # re-scan the growing heap again and again (about half the build time at 10,000 entries).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._build()
        finally:
            if gc_was_enabled:
                # The index lives as long as the process serves the account: move it out of the cyclic GC's
                # view, or every full collection re-walks millions of index objects mid-request (the p99
                # pauses). Refcounting still frees an old index when its account is rebuilt.
                gc.freeze()
                gc.enable()

    def __len__(self) -> int:
        return len(self._entries)

    # ----------------------------------------------------------------------------------- index
    def _build(self) -> None:
        # one string object per distinct feature (sys.intern) keeps the index small; identical phrasings and
        # tags (tags repeat across entries) are normalised once per build
        entry_docs: list[list[tuple[frozenset[str], frozenset[str], str]]] = []
        entry_union: list[frozenset[str]] = []
        postings: dict[str, list[int]] = defaultdict(list)
        seen: dict[str, tuple[frozenset[str], frozenset[str], str]] = {}
        df: Counter[str] = Counter()
        normalizer = self._normalizer
        intern = sys.intern
        for e, entry in enumerate(self._entries):
            docs = []
            union: set[str] = set()  # folded features: the postings, coverage of the message
            accented_union: set[str] = set()  # accented features: only their entry counts (IDF)
            for phrasing in (entry.question, *entry.variants):
                doc = seen.get(phrasing)
                if doc is None:
                    norm = normalizer(phrasing)
                    folded, accented = features(norm)
                    f_set = frozenset(map(intern, folded))
                    a_set = f_set if accented is folded else frozenset(map(intern, accented))
                    doc = seen[phrasing] = (f_set, a_set, norm.folded_text)
                if doc[0]:
                    docs.append(doc)
                    union.update(doc[0])
                    if doc[1] is not doc[0]:
                        accented_union.update(doc[1])
            for tag in entry.tags:  # tags widen what the entry is about, but are not phrasings
                doc = seen.get(tag)
                if doc is None:
                    norm = normalizer(tag)
                    folded, accented = features(norm)
                    f_set = frozenset(map(intern, folded))
                    doc = seen[tag] = (f_set, f_set, norm.folded_text)
                union.update(doc[0])
            for f in union:
                postings[f].append(e)
            accented_union -= union
            df.update(accented_union)
            entry_docs.append(docs)
            entry_union.append(frozenset(union))
        # question types (faq.question_types) are computed lazily, per entry the first time it is a candidate
        # (`_types_of`): most entries of a large account never are, and typing 40,000 phrasings costs a fifth of
        # the build. Kept: the folded text of every phrasing, canonical question first (shared strings).
        self._phrasing_texts = [tuple(seen[p][2] for p in (entry.question, *entry.variants)) for entry in self._entries]
        self._entry_types: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        self._text_types: dict[str, frozenset[str]] = {}
        del seen

        n = max(len(self._entries), 1)
        self._idf_unknown = math.log((n + 1) / 0.5)
        log_n = math.log(n + 1)
        w2: dict[str, float] = {}
        df.update({f: len(es) for f, es in postings.items()})
        for f, count in df.items():
            w = log_n - math.log(count + 0.5)
            if " " in f:  # a word bigram repeats its two words: it adds word order, not a new topic
                w *= _BIGRAM_WEIGHT
            w2[f] = w * w
        self._w2 = w2

        def norm(feats: frozenset[str]) -> float:
            return math.sqrt(sum(map(w2.__getitem__, feats))) or 1.0

        self._postings = {f: tuple(es) for f, es in postings.items()}
        # one feature set per phrasing (folded | accented: the accented message words may meet a folded word
        # of a phrasing typed without diacritics) with its norms, finished lazily (`_docs_of`) the first time the
        # entry is a candidate: most entries of a large account never are
        self._raw_docs = entry_docs
        self._entry_docs: dict[int, list[tuple[frozenset[str], str, float, float]]] = {}
        self._entry_union = [(u, norm(u)) for u in entry_union]
        # per entry, the words (and bigrams) of its answer that no phrasing or tag of the account holds, filled
        # lazily (`_answer_of`) the first time the entry is a candidate for a message with such a word
        self._answer_feats: dict[int, frozenset[str]] = {}
        self._common = max(_COMMON_MIN, int(n * _COMMON_SHARE))

        # typo correction: every deletion of a known folded word points back to it (SymSpell, 1 edit)
        vocab_df: dict[str, int] = {}
        for f, es in postings.items():
            count = len(es)
            if f[0] != ACCENT_PREFIX and " " not in f and len(f) >= _MIN_TYPO_LEN and f.isalpha():
                vocab_df[f] = count
        # ties between equally frequent words go to the same word whatever the set and dict orders (which follow
        # the process's string hash seed): the more frequent word, then the alphabetically first
        deletes: dict[str, str] = {}
        for word, count in vocab_df.items():
            for d in _deletes(word):
                best = deletes.get(d)
                if best is None or (-count, word) < (-vocab_df[best], best):
                    deletes[d] = word
        self._vocab_df = vocab_df
        self._deletes = deletes

    # ----------------------------------------------------------------------------------- query
    def _correct(self, word: str) -> str | None:
        if word in self._vocab_df or len(word) < _MIN_TYPO_LEN or not word.isalpha() or not word.isascii():
            return None
        vocab_df = self._vocab_df
        chosen: str | None = None
        best: tuple[int, str] | None = None
        for c in [self._deletes.get(word)] + [self._deletes.get(d) for d in _deletes(word)] + list(_deletes(word)):
            if c and c in vocab_df:
                rank = (-vocab_df[c], c)  # the more frequent word, then the alphabetically first (see `_build`)
                if best is None or rank < best:
                    chosen, best = c, rank
        return chosen

    def _corrected(self, norm: Normalized) -> tuple[Normalized, set[str]]:
        folded = list(norm.folded)
        tokens = list(norm.tokens)
        corrected: set[str] = set()
        for i, tok in enumerate(folded):
            fixed = self._correct(tok)
            if fixed is not None:
                folded[i] = fixed
                tokens[i] = fixed
                corrected.add(fixed)
        return Normalized(tuple(tokens), tuple(folded), norm.accented), corrected

    def _query(
        self, norm: Normalized, context: Normalized | None = None, hidden: frozenset[str] = frozenset()
    ) -> tuple[dict[str, float], dict[str, float], frozenset[str], frozenset[str], float, float, str]:
        """Feature weights (squared) of a message; `context` features not in `norm` count at `_CONTEXT_WEIGHT`."""
        q, corrected = self._corrected(norm)
        f_list, a_list = features(q)
        f_set = frozenset(f_list)
        a_set = frozenset(a_list) if norm.accented else frozenset()
        scale: dict[str, float] = {}
        if context is not None and context.folded:
            c, c_corrected = self._corrected(context)
            corrected |= c_corrected
            cf_list, ca_list = features(c)
            extra_f = frozenset(cf_list) - f_set
            extra_a = (frozenset(ca_list) - a_set) if norm.accented and context.accented else frozenset()
            scale = dict.fromkeys(extra_f | extra_a, _CONTEXT_WEIGHT * _CONTEXT_WEIGHT)
            f_set |= extra_f
            a_set |= extra_a
        weights: dict[str, float] = {}
        w2 = self._w2
        unknown_uni = (_UNKNOWN_UNIGRAM * self._idf_unknown) ** 2
        unknown_bi = (_UNKNOWN_BIGRAM * self._idf_unknown) ** 2
        all_weights: dict[str, float] = {}
        for f in f_set | a_set:
            w = w2.get(f) if f not in hidden else None
            if w is None:
                bigram = " " in f or (len(f) == 2 and "\u3400" <= f[0])
                w = unknown_bi if bigram else unknown_uni
                all_weights[f] = w * scale.get(f, 1.0)
            else:
                if corrected and (f in corrected or any(p in corrected for p in f.split(" "))):
                    # a one-edit correction may be wrong ("phạt" is a word, not a typo of "phan"): it helps
                    # ranking but counts less than a word the citizen actually typed
                    w *= _TYPO_WEIGHT**2
                weights[f] = all_weights[f] = w * scale.get(f, 1.0)
        q_norm_f = math.sqrt(sum(all_weights[f] for f in f_set))
        q_norm_a = math.sqrt(sum(all_weights[f] for f in a_set))
        return weights, all_weights, f_set, a_set, q_norm_f, q_norm_a, " ".join(q.folded)

    def _score_entries(
        self, norm: Normalized, context: Normalized | None = None, ex: _Exclusion | None = None
    ) -> dict[int, tuple[float, ...]]:
        """entry -> (score 0..100, share of the message's weight the entry covers, key-term coverage, share of
        the message's word weight that no entry of the account knows, highest word weight the entry lacks relative
        to the message's highest, share of the message's word weight the entry holds)."""
        weights, all_weights, q_folded, q_accented, q_norm_f, q_norm_a, q_text = self._query(
            norm, context, ex.hidden if ex is not None else frozenset()
        )
        if not weights or q_norm_f == 0:
            return {}
        acc: dict[int, float] = {}
        get = acc.get
        skipped: list[str] = []
        postings = self._postings
        for f, w in weights.items():
            entries = postings.get(f)
            if entries is None:  # an accented feature: its folded twin collects the same entries
                continue
            if len(entries) > self._common:
                skipped.append(f)
                continue
            for e in entries:
                acc[e] = get(e, 0.0) + w
        if not acc and skipped:  # only common words: consider the entries holding the rarest of them
            f = max(skipped, key=weights.__getitem__)
            acc = dict.fromkeys(postings[f][: _CANDIDATES * 4], weights[f])
        union = self._entry_union
        docs_of = self._docs_of
        if ex is not None:
            if ex.whole:
                acc.pop(ex.entry, None)
            else:
                union = list(union)
                union[ex.entry] = ex.union
                docs_of = lambda e: ex.docs if e == ex.entry else self._docs_of(e)  # noqa: E731
        if len(acc) > _CANDIDATES:
            short = heapq.nlargest(_CANDIDATES, acc, key=lambda e: acc[e] / union[e][1])
        else:
            short = list(acc)
        use_accents = q_norm_a > 0
        q_f_known = q_folded & weights.keys()
        q_a_known = q_accented & weights.keys()
        # the message's most distinctive known words (unigrams): an entry that lacks them is about something
        # else even when the rest of the message overlaps ("nộp phạt" vs an entry about licence points)
        uni = [f for f in q_folded if " " not in f]
        uni_w = {f: all_weights[f] for f in uni}
        key_terms = heapq.nlargest(_KEY_TERMS, uni, key=uni_w.__getitem__)
        key_total = sum(uni_w[f] for f in key_terms) or 1.0
        uni_total = sum(uni_w.values()) or 1.0
        uni_max = max(uni_w.values(), default=1.0) or 1.0
        unknown_share = sum(w for f, w in uni_w.items() if f not in weights) / (sum(uni_w.values()) or 1.0)
        scores: dict[int, tuple[float, float, float, float]] = {}
        q2_f = q_norm_f * q_norm_f
        # message words no phrasing or tag of the account holds, and the answers that do mention them
        q_unknown = q_folded - weights.keys() if _ANSWER_SHARE else frozenset()
        answer_of = self._answer_of
        q2_a = q_norm_a * q_norm_a or 1.0
        weight = weights.__getitem__  # sum(map(...)) is the same sum, in the same order, without a generator
        for e in short:
            best = 0.0
            # how much of the message the whole entry covers (words spread over phrasings and tags)
            u = union[e][0]
            coverage = sum(map(weight, q_f_known & u)) / q2_f
            if q_unknown:
                coverage += _ANSWER_SHARE * sum(map(all_weights.__getitem__, q_unknown & answer_of(e))) / q2_f
            for feats, text, n_f, n_a in docs_of(e):
                dot = sum(map(weight, q_f_known & feats))
                cosine = _similarity(dot / (n_f * n_f), dot / q2_f, coverage)
                if use_accents:
                    dot = sum(map(weight, q_a_known & feats))
                    accented = _similarity(dot / (n_a * n_a), dot / q2_a, coverage)
                    cosine = (1 - _ACCENT_SHARE) * cosine + _ACCENT_SHARE * accented
                # two unrelated sentences already score ~50: only the part above chance counts
                ratio = max(0.0, fuzz.token_sort_ratio(q_text, text) - _FUZZ_CHANCE) / (100.0 - _FUZZ_CHANCE)
                s = (1 - _FUZZ_SHARE) * cosine + _FUZZ_SHARE * ratio
                if s > best:
                    best = s
            key_cov = sum(uni_w[f] for f in key_terms if f in u) / key_total
            score = 100.0 * ((1 - _UNION_SHARE) * best + _UNION_SHARE * coverage)
            missed = max((w for f, w in uni_w.items() if f not in u), default=0.0)
            uni_cov = sum(w for f, w in uni_w.items() if f in u) / uni_total
            scores[e] = (score, coverage, key_cov, unknown_share, math.sqrt(missed / uni_max), uni_cov)
        return scores

    def _clauses(self, text: str) -> list[Normalized]:
        """Sentences of a long message and pairs of neighbouring sentences, normalised (at most `_MAX_CLAUSES`).

        Citizens wrap the question in a story; the sentence that asks scores far better on its own than the
        whole message, whose narrative words lengthen it."""
        parts = [p for p in _SENTENCE_RE.split(text[:_CLAUSE_CHARS]) if p and not p.isspace()]
        if len(parts) < 2:
            return []
        norms = [self._normalizer(p) for p in parts]
        windows = [n for n in norms if n.folded]
        for a, b in zip(parts, parts[1:]):  # noqa: B905
            windows.append(self._normalizer(a + " " + b))
        return [n for n in windows if n.folded][-_MAX_CLAUSES:]

    def _focus(self, text: str) -> list[tuple[Normalized, Normalized]] | None:
        """Question focus of a message of several clauses: windows (the last question-like clause alone, with the
        clause before it, with the clause after it), each with the rest of the message as context. None when no
        clause asks; a window holding no content word (a word the account knows that is not in most of its
        entries: "vậy có sao không" asks nothing) is left out."""
        clauses = split_clauses(text[:_CLAUSE_CHARS])
        if len(clauses) < 2:
            return None
        last = max((i for i, c in enumerate(clauses) if is_question_like(c)), default=None)
        if last is None:
            return None
        postings, limit = self._postings, max(2, len(self._entries) // 4)
        seen = {self._normalizer(text).folded}
        out = []
        for start, end in ((last, last + 1), (last - 1, last + 1), (last, last + 2)):
            if start < 0 or end > len(clauses):
                continue
            window = self._normalizer(" ".join(clauses[start:end]))
            if window.folded in seen:  # the same words as the message or another window: nothing new to score
                continue
            seen.add(window.folded)
            words = {f for f in features(window)[0] if " " not in f}  # words; Chinese: characters and bigrams
            if not any(0 < len(postings.get(f, ())) <= limit for f in words):
                continue
            out.append((window, self._normalizer(" ".join(clauses[:start] + clauses[end:]))))
        return out

    def rank_detail(self, text: str, *, exclude: tuple[int, int | None] | None = None) -> list[tuple[float, ...]]:
        """Entries (index, score, coverage, key-term coverage, unknown share, highest uncovered word weight relative to
        the message's highest, word coverage, type agreement) best first; each entry scores as its best phrasing; a
        message of several clauses as its question focus (`_focus`) with the rest as weak context, and a long
        message as its best sentence (or pair of sentences) when that scores higher.

        `exclude` (offline calibration only): (entry index, phrasing index) scores as if that phrasing were not
        in the index, (entry index, None) as if the entry were not."""
        ex = self._exclusion(*exclude) if exclude is not None else None
        norm = self._normalizer(text)
        if not norm.folded:
            return []
        text = text if isinstance(text, str) else str(text)
        scores = self._score_entries(norm, None, ex)
        typed = norm
        focus = self._focus(text) if len(norm.folded) >= _FOCUS_MIN_TOKENS else None
        if focus:
            typed = focus[0][0]  # the question clause alone says what is asked
            for window, context in focus:
                for e, row in self._score_entries(window, context, ex).items():
                    old = scores.get(e)
                    if old is None or row[0] > old[0]:
                        scores[e] = row
        elif focus is None and len(norm.folded) >= _CLAUSE_MIN_TOKENS:
            for clause in self._clauses(text):
                for e, (s, *rest) in self._score_entries(clause, None, ex).items():
                    s *= _CLAUSE_DISCOUNT
                    old = scores.get(e)
                    if old is None or s > old[0]:
                        scores[e] = (s, *rest)
        # last element: 1.0 when the entry asks (in some phrasing) a strong type the message asks, else 0.0
        m_types = self._typer.types(typed.folded_text)
        strong = self._typer.strong
        types_of = self._types_of
        if ex is not None and not ex.whole:
            types_of = lambda e: ex.types if e == ex.entry else self._types_of(e)  # noqa: E731
        out = []
        for e, (s, *rest) in scores.items():
            agree = 0.0
            if m_types:
                types = types_of(e)
                s *= _type_adjust(m_types, types, strong)
                agree = 1.0 if m_types & types[1] & strong else 0.0
            out.append((e, s, *rest, agree))
        out.sort(key=lambda r: -r[1])
        return out

    def _docs_of(self, e: int) -> list[tuple[frozenset[str], str, float, float]]:
        """The entry's phrasings as (folded | accented features, folded text, folded norm, accented norm)."""
        docs = self._entry_docs.get(e)
        if docs is None:
            w2 = self._w2
            docs = []
            for f_set, a_set, text in self._raw_docs[e]:
                feats = f_set if a_set is f_set else f_set | a_set
                n_f = math.sqrt(sum(map(w2.__getitem__, f_set))) or 1.0
                n_a = n_f if a_set is f_set else (math.sqrt(sum(map(w2.__getitem__, a_set))) or 1.0)
                docs.append((feats, text, n_f, n_a))
            self._entry_docs[e] = docs
        return docs

    def _answer_of(self, e: int) -> frozenset[str]:
        """The entry's answer features that the index does not know (phrasings and tags hold none of them)."""
        feats = self._answer_feats.get(e)
        if feats is None:
            answer, w2 = self._entries[e].answer, self._w2
            words = self._normalizer.plain_features(answer) if answer else ()
            feats = self._answer_feats[e] = frozenset(f for f in words if f not in w2)
        return feats

    def _types_of(self, e: int) -> tuple[frozenset[str], frozenset[str]]:
        """(the entry's own question types, every type any of its phrasings asks), computed once per entry."""
        found = self._entry_types.get(e)
        if found is None:
            cache, typer = self._text_types, self._typer
            per_phrasing = []
            for text in self._phrasing_texts[e]:
                t = cache.get(text)
                if t is None:
                    t = cache[text] = typer.types(text)
                per_phrasing.append(t)
            found = self._entry_types[e] = (typer.entry_types_from(per_phrasing), frozenset().union(*per_phrasing))
        return found

    def _exclusion(self, e: int, p: int | None) -> _Exclusion:
        cache = self.__dict__.setdefault("_exclusions", {})
        found = cache.get((e, p))
        if found is not None:
            return found
        postings = self._postings
        if p is None:
            hidden = frozenset(f for f in self._entry_union[e][0] if postings.get(f) == (e,))
            found = _Exclusion(e, True, hidden, self._entry_union[e], (), self._types_of(e))
        else:
            texts = self._phrasing_texts[e]
            left_out = texts[p]
            kept_raw = [d for d in self._raw_docs[e] if d[2] != left_out]
            union: set[str] = set()
            for d in kept_raw:
                union.update(d[0])
            for tag in self._entries[e].tags:
                union.update(features(self._normalizer(tag))[0])
            gone = set().union(*(d[0] for d in self._raw_docs[e] if d[2] == left_out)) - union
            hidden = frozenset(f for f in gone if postings.get(f) == (e,))
            w2 = self._w2
            u = frozenset(union)
            norm = math.sqrt(sum(w2[f] for f in u if f in w2)) or 1.0
            docs = tuple(d for d in self._docs_of(e) if d[1] != left_out)
            typer = self._typer
            per_phrasing = [typer.types(t) for i, t in enumerate(texts) if i != p and t != left_out]
            types = (typer.entry_types_from(per_phrasing), frozenset().union(*per_phrasing))
            found = _Exclusion(e, False, hidden, (u, norm), docs, types)
        cache[(e, p)] = found
        return found

    def rank(self, text: str) -> list[tuple[int, float]]:
        """Entries (index, score) best first."""
        return [(r[0], r[1]) for r in self.rank_detail(text)]

    def decide(self, ranked: list[tuple[float, ...]]) -> str:
        """ "answer" | "suggest" | "fallback" for a ranked list (see the module docstring); with a calibration,
        "answer" when its logit reaches the cut-off (monotone in the top score and the lead)."""
        if self.calibration is not None:
            if not ranked or ranked[0][1] < self.suggest_threshold:
                return "fallback"
            if self.calibration.answer(ranked):
                return "answer"
            return "suggest" if ranked[0][1] >= self.suggest_threshold else "fallback"
        return decide_ranked(
            [(r[1], r[-1]) for r in ranked[:2]], self.answer_threshold, self.suggest_threshold, self.margin
        )

    def match(self, text: str) -> MatchResult:
        try:
            ranked = self.rank_detail(text)
            decision = self.decide(ranked)
        except Exception:  # noqa: BLE001 - a chat reply must never fail because of the matcher
            return _fallback()
        candidates = [self._candidate(r[0], r[1]) for r in ranked[:_RANKED]]
        if not candidates or decision == "fallback":
            return _fallback(candidates)
        if decision == "answer":
            return MatchResult("answer", candidates[0].key, candidates[0].score, [], candidates)
        suggestions = candidates[:_SUGGESTIONS]
        return MatchResult("suggest", suggestions[0].key, candidates[0].score, suggestions, candidates)

    def _candidate(self, idx: int, score: float) -> Candidate:
        entry = self._entries[idx]
        return Candidate(entry.key, entry.question, round(min(max(score, 0.0), 100.0), 1))
