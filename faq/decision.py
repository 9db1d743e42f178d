"""The interface between the FAQ matcher and its decision rule: the named features of a ranking, and a rule's
type. `faq.matcher` computes the features and calls whichever rule it is given; `faq.calibration` is one such
rule (fitted coefficients shipped as data). Both import this module and neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

# The features a decision rule may read, in a fixed order (the calibration file names them).
FEATURE_NAMES = (
    "score",  # top entry's BM25 score / the message's total idf weight (x (k1 + 1))
    "lead",  # (top - runner-up) / top
    "coverage",  # share of the message's word idf weight the top entry holds (any field)
    "phrasing_coverage",  # ... in its question, variants and tags (not the answer)
    "salient_coverage",  # share of the message's salience (general-language rarity) the top entry holds
    "salient_unknown",  # share of the message's salience no entry of the account holds
    "salient_missed",  # most salient message word the top entry lacks / the most salient word of the message
    "entry_side",  # best share of one phrasing's idf weight present in the message
    "coverage_lead",  # coverage of the top entry minus that of the runner-up
    "distinct",  # share of the message's weight the top entry holds that the runner-up does not hold
    "closeness",  # rapidfuzz token_set_ratio of the message and the top entry's closest phrasing / 100
    "closeness_lead",  # ... minus that of the runner-up
    "length",  # log(1 + message words) / 3
    "phrasing_lead",  # phrasing_coverage of the top entry minus that of the runner-up
    "salient_lead",  # salient_coverage of the top entry minus that of the runner-up
    "entry_side_lead",  # entry_side of the top entry minus that of the runner-up
)

# A decision rule: the features of a message's ranking -> "answer" | "suggest" | "fallback".
Decide = Callable[[Mapping[str, float]], str]


def suggest_only(features: Mapping[str, float]) -> str:
    """The rule when no calibrated one is given or can be read: never answer outright, suggest when the message
    shares anything with an entry."""
    return "suggest" if features.get("score", 0.0) > 0 else "fallback"
