"""The matcher's answer / suggest / fallback decision: three small logistic regressions, shipped as data.

- P(scope): the probability that the account's FAQ answers the message at all (not another agency's business,
  not a procedure it has no entry for);
- P(answer): the probability that the top-ranked entry is the one that answers it, when one does;
- P(helped): the probability that the right entry is among the top three, when one does.

All three read the named features of `faq.decision.FEATURE_NAMES` and were fitted by `faq.lab.fit` (run by
`manage.py bench_faq`) on messages generated from the FAQ corpus itself (each phrasing left out of the index is
a labelled paraphrase, other accounts' questions and entries left out are messages the account cannot answer,
perturbed the ways citizens type) and on messages written by hand for the fit (faq/lab/own_messages_2.jsonl,
30% of the weight: they tell how close real messages sit to the listed phrasings). No dev line is used.

Answer when the message is in scope (P(scope) >= `scope_at`) and the top entry is right (P(answer) >=
`answer_at`): two questions, each with its own cut-off, instead of one product of both; otherwise suggest the
top three when P(scope) x P(helped) >= `suggest_at`; otherwise fall back. The cut-offs are chosen by
`faq.lab.fit.choose_cutoffs` for a stated cost on the same weighted messages (a wrong answer about a legal
procedure costs three right ones), never on the dev set.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from faq.decision import FEATURE_NAMES, Decide, suggest_only

CALIBRATION_PATH = Path(__file__).resolve().parent / "data" / "calibration.json"
SCOPE_AT = 0.75
ANSWER_AT = 0.75
SUGGEST_AT = 0.5


@dataclass(frozen=True)
class Logistic:
    intercept: float
    coef: tuple[float, ...]  # in FEATURE_NAMES order

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.intercept + sum(c * features.get(n, 0.0) for c, n in zip(self.coef, FEATURE_NAMES, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-35.0, min(35.0, z))))

    @classmethod
    def from_dict(cls, data: Mapping) -> Logistic:
        coef = data["coef"]
        return cls(float(data["intercept"]), tuple(float(coef.get(n, 0.0)) for n in FEATURE_NAMES))

    def as_dict(self) -> dict:
        return {
            "intercept": round(self.intercept, 4),
            "coef": {n: round(c, 4) for n, c in zip(FEATURE_NAMES, self.coef, strict=True)},
        }


@dataclass(frozen=True)
class Calibration:
    scope: Logistic  # P(the account answers the message at all)
    answer: Logistic  # P(the top entry is right | the account answers it)
    helped: Logistic  # P(the right entry is in the top three | the account answers it)
    scope_at: float = SCOPE_AT
    answer_at: float = ANSWER_AT
    suggest_at: float = SUGGEST_AT

    def probabilities(self, features: Mapping[str, float]) -> tuple[float, float, float]:
        """(P(in scope), P(top entry right | in scope), P(right entry in the top three | in scope))."""
        return (
            self.scope.probability(features),
            self.answer.probability(features),
            self.helped.probability(features),
        )

    def __call__(self, features: Mapping[str, float]) -> str:
        p_scope, p_answer, p_helped = self.probabilities(features)
        if p_scope >= self.scope_at and p_answer >= self.answer_at:
            return "answer"
        if p_scope * p_helped >= self.suggest_at:
            return "suggest"
        return "fallback"

    @classmethod
    def from_dict(cls, data: Mapping) -> Calibration:
        if list(data["features"]) != list(FEATURE_NAMES):
            raise ValueError("calibration features do not match this matcher")
        return cls(
            Logistic.from_dict(data["scope"]),
            Logistic.from_dict(data["answer"]),
            Logistic.from_dict(data["helped"]),
            float(data.get("scope_at", SCOPE_AT)),
            float(data.get("answer_at", ANSWER_AT)),
            float(data.get("suggest_at", SUGGEST_AT)),
        )


@lru_cache(maxsize=4)
def load_calibration(path: str | None = None) -> Calibration | None:
    """The shipped calibration, or None when the file is absent or unreadable."""
    try:
        with open(path or CALIBRATION_PATH, encoding="utf-8") as fh:
            return Calibration.from_dict(json.load(fh))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def shipped_rule() -> Decide:
    return load_calibration() or suggest_only
