"""Text normalisation for FAQ matching (pure Python, no Django).

One `Normalizer` per (language, per-account synonyms) turns a citizen's message or an FAQ phrasing into
canonical tokens. The same pipeline runs on both sides, so they meet on one spelling:

1. `clean`: NFC, control/format characters removed, case folded, truncated to `MAX_CHARS`.
2. Chinese: traditional -> simplified (zhconv), colloquial -> official wording, greetings removed.
3. Tokens: Latin/Vietnamese words, digits; Chinese runs become character unigrams + bigrams later.
4. Dictionary phrases (teen-code, abbreviations, contractions, per-account synonyms) are expanded and
   greetings/politeness/particles dropped, matching whole tokens, longest phrase first.
5. Every token is kept twice: as typed (accented) and diacritic-folded (đ -> d), so an accented match can
   win where the citizen typed accents while unaccented text still matches.

Limits: input of any size and content is accepted and never raises; text longer than `MAX_CHARS` keeps
its head and tail (greetings come first, the actual question usually last).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import zhconv

LANGUAGES = ("vi", "en", "zh")

# A citizen's question is rarely longer than ~600 characters; beyond 2,000 it is a pasted document. Head
# and tail are kept (the greeting and context come first, the question is usually the last sentence).
MAX_CHARS = 2000
_HEAD_CHARS = 1200
_MAX_TOKEN = 40

# Prefix of accented features in the index, so "bão" (storm) and "bao" (folded) live side by side.
ACCENT_PREFIX = "~"

_DICT_DIR = Path(__file__).resolve().parent / "dictionaries"

_CONTROL_RE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff]"
)
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
# Chinese runs and Latin/digit runs are separate tokens even when typed without a space ("b2驾照")
_TOKEN_RE = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")
_DIGIT_RE = re.compile(r"\d")
_AGE_RE = re.compile(r"\b(\d{1,3})t\b")  # "25t" = 25 tuổi
_IN_RE = re.compile(r"\b(\d)\s*in\s*(\d)\b")  # "6in1" = 6 trong 1 (combined vaccines)
_EN_CONTRACTIONS = (
    (re.compile(r"\b(can)'t\b"), r"\1 not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'s\b"), ""),
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        if base and base != char and base.isascii():
            table[code] = base
    table.update({ord("đ"): "d", ord("Đ"): "D", ord("ð"): "d", ord("Ð"): "D"})
    for code in range(0x0300, 0x0370):  # stray combining marks NFC could not compose
        table[code] = ""
    return table


_FOLD_TABLE = _build_fold_table()
_ACCENTED_RE = re.compile("[" + re.escape("".join(chr(c) for c, v in _FOLD_TABLE.items() if v)) + "]")


def fold(text: str) -> str:
    """Remove diacritics (Vietnamese and other Latin): "Đăng ký" -> "Dang ky"."""
    return text.translate(_FOLD_TABLE)


def has_diacritics(text: str) -> bool:
    return _ACCENTED_RE.search(text) is not None


def clean(text: object) -> str:
    """NFC, no control characters, case folded, collapsed spaces, at most `MAX_CHARS`. Never raises."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if len(text) > MAX_CHARS * 2:  # cut before the O(n) passes below, keeping head and tail
        text = text[:MAX_CHARS] + " " + text[-MAX_CHARS:]
    text = _CONTROL_RE.sub(" ", text)
    try:
        text = unicodedata.normalize("NFC", text)
    except ValueError:  # pragma: no cover - defensive; NFC accepts any str without surrogates
        text = text.encode("utf-8", "ignore").decode("utf-8")
    text = " ".join(text.casefold().split())
    if len(text) > MAX_CHARS:
        text = text[:_HEAD_CHARS] + " " + text[-(MAX_CHARS - _HEAD_CHARS) :]
    return text


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese; text without Chinese characters is returned as is."""
    if not has_cjk(text):
        return text
    return zhconv.convert(text, "zh-cn")


_EN_IRREGULAR = {"children": "child", "men": "man", "women": "woman", "lost": "lost", "bus": "bus"}


def stem_en(word: str) -> str:
    """A deliberately small suffix stripper; both sides use it, so consistency matters more than accuracy."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word in _EN_IRREGULAR:
        return _EN_IRREGULAR[word]
    for suffix, repl, min_len in (
        ("ies", "y", 5),
        ("ing", "", 6),
        ("ed", "", 5),
        ("es", "", 6),
        ("s", "", 4),
    ):
        if word.endswith(suffix) and len(word) >= min_len and not word.endswith("ss"):
            word = word[: len(word) - len(suffix)] + repl
            break
    if len(word) >= 4 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    return word


@dataclass(frozen=True)
class Normalized:
    tokens: tuple[str, ...]  # canonical tokens as typed (with accents); Chinese runs are single tokens
    folded: tuple[str, ...]  # the same tokens without diacritics
    accented: bool  # the citizen typed Vietnamese diacritics

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    @property
    def folded_text(self) -> str:
        return " ".join(self.folded)


@lru_cache(maxsize=8)
def load_dictionary(language: str) -> dict:
    path = _DICT_DIR / f"{language}.json"
    if not path.exists():
        return {"phrases": {}, "stop": []}
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


class Normalizer:
    """Normaliser for one language plus an account's extra synonyms ("abbreviation -> expansion")."""

    def __init__(self, language: str = "vi", synonyms: Mapping[str, str] | None = None):
        self.language = language if language in LANGUAGES else "vi"
        data = load_dictionary(self.language)
        phrases: dict[str, str] = dict(data.get("phrases", {}))
        stop: list[str] = list(data.get("stop", []))
        accented_only_stop: list[str] = list(data.get("stop_accented_only", []))
        for key, value in (synonyms or {}).items():
            if isinstance(key, str) and isinstance(value, str) and key.strip():
                phrases[key] = value
        self._zh_replace = self._zh_rule(phrases, stop) if self.language == "zh" else None
        # token phrase rules: first token -> [(key tokens, expansion tokens, accented_only)], longest first
        self._rules: dict[str, list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], bool]]] = {}
        for key, value in phrases.items():
            self._add_rule(key, value, accented_only=False)
        for key in stop:
            self._add_rule(key, "", accented_only=False)
        for key in accented_only_stop:
            self._add_rule(key, "", accented_only=True)
        for rules in self._rules.values():
            rules.sort(key=lambda r: -len(r[0]))
        self._max_rule_len = max((len(r[0]) for rs in self._rules.values() for r in rs), default=1)
        # common words head multi-word rules only ("xe" of "xe hơi", "làm" of "làm ơn"): a position is a rule head
        # when its word heads a one-word rule or it starts the first two words of a longer one
        self._single_heads = {f for f, rs in self._rules.items() if any(len(r[0]) == 1 for r in rs)}
        self._pair_heads = {r[1][:2] for rs in self._rules.values() for r in rs if len(r[0]) > 1}

    @staticmethod
    def _zh_rule(phrases: Mapping[str, str], stop: list[str]):
        table = {to_simplified(clean(k)): to_simplified(clean(v)) for k, v in phrases.items() if has_cjk(k)}
        table.update({to_simplified(clean(k)): "" for k in stop if has_cjk(k)})
        table = {k: v for k, v in table.items() if k}
        if not table:
            return None
        pattern = re.compile("|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)))
        return lambda text: pattern.sub(lambda m: table[m.group(0)] or " ", text)

    def _add_rule(self, key: str, value: str, *, accented_only: bool) -> None:
        key_tokens = tuple(self._raw_tokens(clean(key)))
        if not key_tokens or any(has_cjk(t) for t in key_tokens):
            return
        value_tokens = tuple(self._raw_tokens(clean(value)))
        key_folded = tuple(fold(t) for t in key_tokens)
        self._rules.setdefault(key_folded[0], []).append((key_tokens, key_folded, value_tokens, accented_only))

    def _raw_tokens(self, text: str) -> list[str]:
        if "'" in text and (self.language == "en" or not has_diacritics(text)):
            for pattern, repl in _EN_CONTRACTIONS:
                if "'" in text:
                    text = pattern.sub(repl, text)
        if self.language == "vi" and _DIGIT_RE.search(text) is not None:
            text = _AGE_RE.sub(r"\1 tuổi", text)
            text = _IN_RE.sub(r"\1 trong \2", text)
        # tokens longer than _MAX_TOKEN are URLs, hashes or keyboard mashing: no FAQ word is that long
        return [t for t in _TOKEN_RE.findall(text) if len(t) <= _MAX_TOKEN or _CJK_RE.match(t)]

    def __call__(self, text: object) -> Normalized:
        try:
            return self._normalize(text)
        except Exception:  # noqa: BLE001 - the matcher must never raise on citizen input
            return Normalized((), (), False)

    def _normalize(self, text: object) -> Normalized:
        cleaned = clean(text)
        if "\u2019" in cleaned or "\u2018" in cleaned or "`" in cleaned:
            cleaned = cleaned.translate(_APOSTROPHES)
        accented = has_diacritics(cleaned)
        if has_cjk(cleaned):
            cleaned = to_simplified(cleaned)
            if self._zh_replace is not None:
                cleaned = self._zh_replace(cleaned)
        raw = self._raw_tokens(cleaned)
        folded = [_fold_token(t) for t in raw]
        # most tokens start no rule: copy the runs between rule heads in one slice
        heads = self._heads(folded)
        if not heads:
            out, out_folded = raw, folded
        else:
            out, out_folded, expanded = self._apply_rules(raw, folded, heads)
            if expanded:
                # an expansion may complete a phrase that its short form hid: "cho e hỏi" -> "cho em hỏi" (a
                # greeting), "r" -> "rồi", "pls" -> "please" (fillers); a second pass reads the canonical words
                heads = self._heads(out_folded)
                if heads:
                    out, out_folded, _ = self._apply_rules(out, out_folded, heads)
        if self.language == "en":
            out = [stem_en(t) for t in out]
            out_folded = [_fold_token(t) for t in out]
        return Normalized(tuple(out), tuple(out_folded), accented)

    def plain_features(self, text: object) -> set[str]:
        """Folded word unigrams + bigrams (Chinese: character n-grams) of a long text, without the phrase rules:
        a cheap pass for FAQ answers, whose words only matter where a message uses a word no phrasing holds (such
        a word is a plain word, not an abbreviation the rules would expand). Stemmed in English as `__call__`."""
        cleaned = to_simplified(clean(text))
        folded = [_fold_token(t) for t in self._raw_tokens(cleaned)]
        if self.language == "en":
            folded = [_fold_token(stem_en(t)) for t in folded]
        return set(ngrams(folded))

    def plain_folded(self, text: object) -> list[str]:
        """Diacritic-folded tokens of a long text (an FAQ answer) without the phrase rules: a cheap pass (the
        whole text is folded at once) whose words are plain words, not abbreviations the rules would expand.
        Stemmed in English as `__call__`; never raises."""
        try:
            cleaned = clean(text)
            if has_cjk(cleaned):
                cleaned = to_simplified(cleaned)
            # token by token through the fold cache: an answer's words repeat across entries, and `str.translate`
            # over a whole text with a dict table is a lookup per character (a quarter of an index build)
            folded = _FOLD_CACHE.get
            tokens = [
                folded(t) or _fold_token(t)
                for t in _TOKEN_RE.findall(cleaned)
                if len(t) <= _MAX_TOKEN or _CJK_RE.match(t)
            ]
            if self.language == "en":
                tokens = [stem_en(t) for t in tokens]
            return tokens
        except Exception:  # noqa: BLE001 - same contract as __call__
            return []

    def _heads(self, folded: list[str]) -> list[int]:
        """Positions where a phrase rule may start (a necessary condition on the folded words)."""
        rules, single, pairs = self._rules, self._single_heads, self._pair_heads
        return [
            i
            for i, f in enumerate(folded)
            if f in rules and (f in single or (i + 1 < len(folded) and (f, folded[i + 1]) in pairs))
        ]

    def _apply_rules(self, raw: list[str], folded: list[str], heads: list[int]) -> tuple[list[str], list[str], bool]:
        """Expand dictionary phrases (longest first) starting at the rule-head positions `heads`; the flag says
        whether a phrase was replaced by other words (not only dropped).

        A token typed without diacritics may match a key's folded spelling; a token typed with diacritics
        must match the key exactly ("hỏng" is not the teen-code "hong")."""
        rules = self._rules
        out: list[str] = []
        out_folded: list[str] = []
        n = len(raw)
        i = 0
        expanded = False
        for h in heads:
            if h < i:  # inside a phrase already expanded
                continue
            out.extend(raw[i:h])
            out_folded.extend(folded[i:h])
            i = h
            for key_tokens, key_folded, value_tokens, accented_only in rules[folded[h]]:
                k = len(key_tokens)
                if h + k > n:
                    continue
                for j in range(k):
                    typed = raw[h + j]
                    if typed != key_tokens[j] and (
                        accented_only or folded[h + j] != typed or folded[h + j] != key_folded[j]
                    ):
                        break
                else:
                    if value_tokens:
                        out.extend(value_tokens)
                        out_folded.extend(_fold_token(t) for t in value_tokens)
                        expanded = expanded or value_tokens != key_tokens
                    i = h + k
                    break
        out.extend(raw[i:])
        out_folded.extend(folded[i:])
        return out, out_folded, expanded


_COMBINING_RE = re.compile("[\u0300-\u036f]+")


def _fold_long(text: str) -> str:
    """`fold` for long texts, ~4x faster than the per-character table: decompose, drop the combining marks
    (what the table does for Latin letters), đ/ð -> d; the text is NFC-cleaned already."""
    text = text.replace("đ", "d").replace("Đ", "D").replace("ð", "d").replace("Ð", "D")
    return _COMBINING_RE.sub("", unicodedata.normalize("NFD", text))


_FOLD_CACHE: dict[str, str] = {}
_FOLD_CACHE_MAX = 200_000  # distinct words; bounded so hostile input cannot grow it without limit


def _fold_token(token: str) -> str:
    folded = _FOLD_CACHE.get(token)
    if folded is None:
        folded = token.translate(_FOLD_TABLE)
        if len(_FOLD_CACHE) < _FOLD_CACHE_MAX:
            _FOLD_CACHE[token] = folded
    return folded


def ngrams(tokens: tuple[str, ...] | list[str]) -> list[str]:
    """Matching features: word unigrams + word bigrams; Chinese runs give character unigrams + bigrams.

    A Chinese run breaks the word-bigram chain (bigrams never span scripts).
    """
    if _CJK_RE.search("".join(tokens)) is None:
        tokens = list(tokens)
        return tokens + [a + " " + b for a, b in zip(tokens, tokens[1:])]  # noqa: B905
    feats: list[str] = []
    prev: str | None = None
    for tok in tokens:
        if _CJK_RE.match(tok):
            feats.extend(tok)
            feats.extend(tok[i : i + 2] for i in range(len(tok) - 1))
            prev = None
            continue
        feats.append(tok)
        if prev is not None:
            feats.append(prev + " " + tok)
        prev = tok
    return feats


def features(norm: Normalized) -> tuple[list[str], list[str]]:
    """(folded features, accented features) of a normalised text.

    An accented feature is prefixed with `ACCENT_PREFIX` only when it differs from its folded spelling, so a
    text without diacritics (English, Chinese, unaccented Vietnamese) adds nothing twice to the index.
    """
    tokens, folded_tokens = norm.tokens, norm.folded
    if _CJK_RE.search("".join(folded_tokens)) is not None:  # Chinese runs: character n-grams, generic path
        folded = ngrams(folded_tokens)
        if not norm.accented and tokens == folded_tokens:
            return folded, folded
        return folded, [a if a == f else ACCENT_PREFIX + a for a, f in zip(ngrams(tokens), folded, strict=True)]
    # Latin text: unigrams then bigrams in token order; a bigram differs when either of its words does
    folded = list(folded_tokens)
    folded += [a + " " + b for a, b in zip(folded_tokens, folded_tokens[1:])]  # noqa: B905
    if not norm.accented and tokens == folded_tokens:
        return folded, folded
    same = [t == f for t, f in zip(tokens, folded_tokens, strict=True)]
    accented = [t if s else ACCENT_PREFIX + t for t, s in zip(tokens, same, strict=True)]
    accented += [
        fb if s1 and s2 else ACCENT_PREFIX + t1 + " " + t2
        for fb, s1, s2, t1, t2 in zip(folded[len(tokens) :], same, same[1:], tokens, tokens[1:])  # noqa: B905
    ]
    return folded, accented


@lru_cache(maxsize=64)
def _cached_normalizer(language: str) -> Normalizer:
    return Normalizer(language)


def normalize(text: object, language: str = "vi", synonyms: Mapping[str, str] | None = None) -> Normalized:
    """Convenience wrapper; build a `Normalizer` once when normalising many texts with synonyms."""
    if synonyms:
        return Normalizer(language, synonyms)(text)
    return _cached_normalizer(language)(text)
