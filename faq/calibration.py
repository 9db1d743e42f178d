"""Answer/suggest decision calibrated on the FAQ corpus itself, never on labelled citizen messages.

    python -m faq.calibration --corpus ../shared/faq/faq_corpus.json   # writes faq/dictionaries/calibration.json

Self-supervision (`collect`), per account:
- positives: every phrasing (question or variant) of an entry with at least two phrasings is held out (the
  matcher scores as if it were not indexed: `Matcher.rank_detail(..., exclude=(entry, phrasing))`), as typed
  and perturbed the way citizens type (diacritics stripped, teen-code/abbreviations from the dictionary in
  reverse, a word dropped, wrapped in a greeting, after a narrative sentence, traditional Chinese). Label: the
  held-out phrasing's entry ranks first. A line whose top entry is another one is a wrong answer if answered.
- negatives ("must not answer"): the phrasings of the other accounts of the same language (a police account
  does not answer a health department's questions; near-duplicates across accounts are left out), and every
  phrasing of an entry scored with that whole entry left out of its own account (the account has no FAQ for
  that procedure; the nearest entries are its siblings, the hardest case).

`fit`: a logistic regression P(the top entry is right) on a handful of decision features of the ranked list
(`decision_features`), each with a fixed sign (monotone: a higher top score or lead never lowers it), by Newton's
method with an active set for the signs, in plain Python. The answer cut-off on the logit maximises correct
answers minus 3 x wrong ones on the weighted self-supervised lines (in-scope weighs `_IN_SCOPE_SHARE`, as in
citizen traffic) with the wrong-answer rate held at most `max_wrong`. Applying it costs a dot product of ten
numbers per message (`Calibration.answer`).

Measured (dev set, 322 lines, never used to fit): the leave-one-phrasing-out positives are much harder than
citizens' messages (the right entry ranks first for 62% of them vs ~94% of the dev set's in-scope lines), so the
fitted cut-off is far too strict (dev correct 43.7%, wrong 0.3%), and even with the cut-off chosen on the dev set
the fitted logit ranks worse than the rule (correct 54-80% at <= 2% wrong, depending on the feature set, vs 83.9%
at 1.2% for the rule). So the matcher keeps its rule; `Matcher(..., calibrated=True)` opts in to a calibration
file for experiments, and `collect` stays useful as a dev-free ranking check (top-1 of held-out phrasings).
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CALIBRATION_PATH = Path(__file__).resolve().parent / "dictionaries" / "calibration.json"

# name, sign of its coefficient (+1: may only raise P(answer), -1: may only lower it)
FEATURES: tuple[tuple[str, int], ...] = (
    ("score", +1),  # top score / 100
    ("lead", +1),  # (top - runner-up) / 100
    ("ratio", +1),  # 1 - runner-up / top
    ("coverage", +1),  # share of the message's weight the top entry covers
    ("key_coverage", +1),  # the message's most distinctive words held by the top entry
    ("unknown_share", -1),  # share of the message's word weight no entry of the account knows
    ("missed", -1),  # heaviest message word the top entry lacks, relative to the heaviest word
    ("word_coverage", +1),  # share of the message's word weight the top entry holds
    ("agree", +1),  # the top entry asks what the message asks (question type)
    ("agree_alone", +1),  # ... and the runner-up does not
)
_IN_SCOPE_SHARE = 0.8  # ~19% of citizen messages are about nothing the account answers (FORMAT.md)
_L2 = 1e-3


def decision_features(ranked: Sequence[Sequence[float]]) -> list[float]:
    """Features of a ranked list of `Matcher.rank_detail` rows (entry, score, coverage, key coverage, unknown
    share, missed, word coverage, ..., type agreement)."""
    top = ranked[0]
    s1 = max(top[1], 0.0)
    s2 = max(ranked[1][1], 0.0) if len(ranked) > 1 else 0.0
    agree = top[-1]
    runner_agree = ranked[1][-1] if len(ranked) > 1 else 0.0
    return [
        s1 / 100.0,
        (s1 - s2) / 100.0,
        1.0 - s2 / s1 if s1 > 0 else 0.0,
        top[2],
        top[3],
        top[4],
        top[5],
        top[6],
        agree,
        agree * (1.0 - runner_agree),
    ]


@dataclass(frozen=True)
class Calibration:
    coef: tuple[float, ...]
    intercept: float
    cutoff: float  # answer when the logit is at least this

    def logit(self, ranked: Sequence[Sequence[float]]) -> float:
        x = decision_features(ranked)
        return self.intercept + sum(c * v for c, v in zip(self.coef, x, strict=True))

    def answer(self, ranked: Sequence[Sequence[float]]) -> bool:
        return bool(ranked) and self.logit(ranked) >= self.cutoff

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        names = [n for n, _ in FEATURES]
        if list(data["features"]) != names:
            raise ValueError("calibration features do not match this matcher")
        coef = tuple(float(data["coef"][n]) for n in names)
        for (_, sign), c in zip(FEATURES, coef, strict=True):
            if c * sign < 0:
                raise ValueError("calibration coefficient with the wrong sign")
        return cls(coef, float(data["intercept"]), float(data["cutoff"]))


@lru_cache(maxsize=4)
def load_calibration(path: str | None = None) -> Calibration | None:
    """The shipped calibration, or None when the file is absent or unreadable (the matcher then uses its rule)."""
    try:
        with open(path or CALIBRATION_PATH, encoding="utf-8") as fh:
            return Calibration.from_dict(json.load(fh))
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ------------------------------------------------------------------------------------------ self-supervision
_GREETINGS = {
    "vi": ("ad ơi cho em hỏi {} ạ", "chào anh chị, {}", "dạ cho mình hỏi {} với", "{} vậy ad"),
    "en": ("hi, {} thanks", "hello there, {}", "{} please", "quick question: {}"),
    "zh": ("你好，请问{}", "{}，谢谢", "您好，想问一下{}", "请问一下{}？"),
}
_NARRATIVES = {
    "vi": (
        "Em ở quận Bình Thạnh, đi làm cả ngày nên ít thời gian. {}",
        "Nhà mình có việc gấp tuần sau phải về quê. {}",
        "Hôm qua em có lên phường nhưng đông quá nên về. {}",
    ),
    "en": (
        "I moved here last month and work full time. {}",
        "My mother is elderly and I am helping her with paperwork. {}",
        "I tried calling yesterday but nobody picked up. {}",
    ),
    "zh": ("我上个月刚搬来，平时上班很忙。{}", "家里老人年纪大了，我帮他问一下。{}", "昨天打电话没人接。{}"),
}


def _reverse_phrases(language: str) -> list[tuple[str, str]]:
    """(expansion, short form) pairs of the language dictionary: citizens type the short form."""
    from faq.normalize import load_dictionary

    pairs: dict[str, str] = {}
    for short, full in load_dictionary(language).get("phrases", {}).items():
        if full and short and full != short and full not in pairs and len(short) <= len(full):
            pairs[full] = short
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


def perturbations(text: str, language: str, rng: random.Random) -> list[tuple[str, str]]:
    """(style, text) variants of a phrasing, typed the way citizens type."""
    from faq.normalize import fold, to_simplified

    out: list[tuple[str, str]] = [("plain", text)]
    lowered = text.lower()
    if language == "vi":
        out.append(("no_diacritics", fold(lowered).rstrip("?")))
    elif language == "zh":
        try:
            import zhconv

            out.append(("traditional", zhconv.convert(text, "zh-hant")))
        except Exception:  # noqa: BLE001 - zhconv is optional here
            pass
    else:
        out.append(("informal", lowered.rstrip("?")))
    short = lowered
    hits = 0
    for full, abbr in _reverse_phrases(language):
        if full in short and (language == "zh" or f" {full} " in f" {short} "):
            short = short.replace(full, abbr) if language == "zh" else f" {short} ".replace(f" {full} ", f" {abbr} ")
            short = short.strip()
            hits += 1
    if hits:
        out.append(("teencode", fold(short) if language == "vi" and rng.random() < 0.5 else short))
    words = text.split()
    if language != "zh" and len(words) >= 4:
        drop = rng.randrange(len(words))
        out.append(("dropped", " ".join(words[:drop] + words[drop + 1 :])))
    elif language == "zh" and len(to_simplified(text)) >= 6:
        drop = rng.randrange(len(text) - 1)
        out.append(("dropped", text[:drop] + text[drop + 1 :]))
    greeting = rng.choice(_GREETINGS.get(language, _GREETINGS["en"]))
    out.append(("greeting", greeting.format(text.rstrip("?？"))))
    narrative = rng.choice(_NARRATIVES.get(language, _NARRATIVES["en"]))
    out.append(("verbose", narrative.format(text)))
    return out


def _phrasings(entry) -> list[str]:
    return [entry.question, *entry.variants]


def collect(corpus: dict, *, seed: int = 11) -> list[dict]:
    """Self-supervised decision lines of the corpus: {"x": features, "kind": pos|neg, "top_right": bool,
    "account", "style"}."""
    from rapidfuzz import fuzz

    from faq.bench import entries_of
    from faq.intents import detect_intent
    from faq.matcher import Matcher
    from faq.normalize import normalize

    rng = random.Random(seed)
    lines: list[dict] = []
    accounts = corpus["accounts"]
    matchers = {a["slug"]: Matcher(entries_of(a), language=a.get("language", "vi")) for a in accounts}

    def record(account: str, language: str, text: str, ranked, *, kind: str, right: int | None, style: str):
        if not ranked or detect_intent(text, language=language) is not None:
            return
        lines.append(
            {
                "account": account,
                "kind": kind,
                "style": style,
                "top_right": right is not None and ranked[0][0] == right,
                "x": decision_features(ranked),
            }
        )

    for a in accounts:
        slug, language = a["slug"], a.get("language", "vi")
        m = matchers[slug]
        for e, entry in enumerate(m._entries):
            phrasings = _phrasings(entry)
            if len(phrasings) >= 2:
                for p, text in enumerate(phrasings):
                    for style, variant in perturbations(text, language, rng):
                        ranked = m.rank_detail(variant, exclude=(e, p))
                        record(slug, language, variant, ranked, kind="pos", right=e, style=style)
            # the account has no FAQ for this procedure: its own phrasings with the whole entry left out
            for text in phrasings:
                style, variant = rng.choice(perturbations(text, language, rng))
                ranked = m.rank_detail(variant, exclude=(e, None))
                record(slug, language, variant, ranked, kind="neg", right=None, style="missing-" + style)
        # other accounts of the same language: their business, not this account's
        own = [normalize(p, language).folded_text for entry in m._entries for p in _phrasings(entry)]
        for other in accounts:
            if other["slug"] == slug or other.get("language", "vi") != language:
                continue
            for entry in entries_of(other):
                for text in _phrasings(entry):
                    folded = normalize(text, language).folded_text
                    if any(fuzz.token_sort_ratio(folded, o) >= 85 for o in own):
                        continue  # the same question in both accounts: not a negative
                    style, variant = rng.choice(perturbations(text, language, rng))
                    record(slug, language, variant, m.rank_detail(variant), kind="neg", right=None, style=style)
    return lines


# ------------------------------------------------------------------------------------------ fit
def _weights(lines: Sequence[dict]) -> list[float]:
    pos = sum(1 for ln in lines if ln["kind"] == "pos") or 1
    neg = sum(1 for ln in lines if ln["kind"] == "neg") or 1
    n = len(lines)
    return [(_IN_SCOPE_SHARE / pos if ln["kind"] == "pos" else (1 - _IN_SCOPE_SHARE) / neg) * n for ln in lines]


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (small dense systems)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[piv] = m[piv], m[col]
        d = m[col][col] or 1e-12
        for r in range(n):
            if r != col and m[r][col]:
                f = m[r][col] / d
                for c in range(col, n + 1):
                    m[r][c] -= f * m[col][c]
    return [m[i][n] / (m[i][i] or 1e-12) for i in range(n)]


def _logistic(xs: list[list[float]], ys: list[float], ws: list[float], active: list[int]) -> list[float]:
    """Weighted L2-regularised logistic regression on the `active` feature columns (+ intercept), Newton."""
    k = len(active) + 1
    beta = [0.0] * k
    rows = [[1.0] + [x[j] for j in active] for x in xs]
    for _ in range(50):
        grad = [0.0] * k
        hess = [[0.0] * k for _ in range(k)]
        for r, y, w in zip(rows, ys, ws, strict=True):
            z = sum(b * v for b, v in zip(beta, r, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-35.0, min(35.0, z))))
            g = w * (p - y)
            h = w * p * (1 - p)
            for i in range(k):
                grad[i] += g * r[i]
                hi = h * r[i]
                row = hess[i]
                for j in range(i, k):
                    row[j] += hi * r[j]
        n = sum(ws)
        for i in range(k):
            for j in range(i):
                hess[i][j] = hess[j][i]
            if i:
                grad[i] += _L2 * n * beta[i]
                hess[i][i] += _L2 * n
        step = _solve(hess, grad)
        beta = [b - s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-7:
            break
    return beta


def fit(lines: Sequence[dict], *, max_wrong: float = 0.02) -> dict:
    """Sign-constrained logistic regression + answer cut-off (see the module docstring)."""
    xs = [ln["x"] for ln in lines]
    ys = [1.0 if ln["kind"] == "pos" and ln["top_right"] else 0.0 for ln in lines]
    ws = _weights(lines)
    active = list(range(len(FEATURES)))
    while True:
        beta = _logistic(xs, ys, ws, active)
        bad = [j for j, b in zip(active, beta[1:], strict=True) if b * FEATURES[j][1] < 0]
        if not bad:
            break
        worst = min(bad, key=lambda j: beta[1 + active.index(j)] * FEATURES[j][1])
        active.remove(worst)  # a feature that would have to act against its sign is left out (coefficient 0)
    coef = [0.0] * len(FEATURES)
    for j, b in zip(active, beta[1:], strict=True):
        coef[j] = b
    intercept = beta[0]
    logits = [intercept + sum(c * v for c, v in zip(coef, x, strict=True)) for x in xs]
    cutoff, stats = _choose_cutoff(lines, logits, ws, max_wrong)
    return {
        "features": [n for n, _ in FEATURES],
        "coef": {n: round(c, 6) for (n, _), c in zip(FEATURES, coef, strict=True)},
        "intercept": round(intercept, 6),
        "cutoff": round(cutoff, 6),
        "max_wrong": max_wrong,
        "in_scope_share": _IN_SCOPE_SHARE,
        "self_supervised": stats,
    }


def _choose_cutoff(lines, logits, ws, max_wrong: float) -> tuple[float, dict]:
    """Answer when logit >= cut: walk the lines from the highest logit down, accumulating right and wrong."""
    pos_w = sum(w for ln, w in zip(lines, ws, strict=True) if ln["kind"] == "pos") or 1.0
    total = sum(ws) or 1.0
    order = sorted(range(len(lines)), key=lambda i: -logits[i])
    best = (0.0, max(logits, default=0.0) + 1.0, {"correct": 0.0, "wrong": 0.0})
    correct = wrong = 0.0
    for n, i in enumerate(order):
        ln = lines[i]
        if ln["kind"] == "pos" and ln["top_right"]:
            correct += ws[i]
        else:
            wrong += ws[i]
        if n + 1 < len(order) and logits[order[n + 1]] == logits[i]:
            continue  # ties answer together
        r = {"correct": correct / pos_w, "wrong": wrong / total}
        value = r["correct"] - 3.0 * r["wrong"]
        if r["wrong"] <= max_wrong and value > best[0] + 1e-12:
            best = (value, logits[i], r)
    stats = {k: round(v, 4) for k, v in best[2].items()}
    top_right = sum(w for ln, w in zip(lines, ws, strict=True) if ln["kind"] == "pos" and ln["top_right"])
    stats.update(
        lines=len(lines),
        positives=sum(1 for ln in lines if ln["kind"] == "pos"),
        negatives=sum(1 for ln in lines if ln["kind"] == "neg"),
        top1=round(top_right / pos_w, 4),
    )
    return best[1], stats


def style_report(lines: Sequence[dict], calibration: dict) -> dict[str, dict]:
    """Answered-right / answered-wrong share per (kind, style) of the self-supervised lines."""
    cal = Calibration.from_dict(calibration)
    out: dict[str, dict] = {}
    for ln in lines:
        z = cal.intercept + sum(c * v for c, v in zip(cal.coef, ln["x"], strict=True))
        s = out.setdefault(f"{ln['kind']}:{ln['style']}", {"n": 0, "right": 0, "wrong": 0})
        s["n"] += 1
        if z >= cal.cutoff:
            s["right" if ln["kind"] == "pos" and ln["top_right"] else "wrong"] += 1
    return out


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fit the FAQ answer decision on the corpus (no labelled lines).")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--out", default=str(CALIBRATION_PATH))
    parser.add_argument("--max-wrong", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(list(argv) if argv is not None else None)
    with open(args.corpus, encoding="utf-8") as fh:
        corpus = json.load(fh)
    lines = collect(corpus, seed=args.seed)
    model = fit(lines, max_wrong=args.max_wrong)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(model, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    print(json.dumps(model, indent=2, ensure_ascii=False))
    for k, v in sorted(style_report(lines, model).items()):
        print(f"  {k:<28} n={v['n']:>5} answered right {v['right'] / v['n']:.1%} wrong {v['wrong'] / v['n']:.1%}")
    load_calibration.cache_clear()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
