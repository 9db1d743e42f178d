"""How much a word says, from a general-language frequency list (no hand-made stop lists).

`salience(word)` = `_ZIPF_CEILING` minus the word's Zipf frequency in everyday language (wordfreq, exported
by `faq.lab.wordfreq_export`), floored at 0: "và", "the", "的" weigh ~0; "hộ chiếu", "passport", "护照" weigh
2-4; a word the list does not hold at all (rarer than once per million words, a name, a typo) weighs the most.
The matcher uses it for one question only: does the account's FAQ explain the words that carry the message?
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from faq.normalize import has_cjk

_DATA_DIR = Path(__file__).resolve().parent / "data"
# Zipf 7 is "once every 10 words" (the, và, 的): nothing more frequent carries meaning.
_ZIPF_CEILING = 7.0
# A word missing from the exported table: below its cut-off (Zipf 3 for en/zh; Vietnamese keeps every syllable).
_ZIPF_MISSING = 2.0


@lru_cache(maxsize=4)
def _table(language: str) -> dict[str, float]:
    try:
        with (_DATA_DIR / f"wordfreq_{language}.json").open(encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


class Salience:
    """Salience of the matcher's units (folded or accented words; Chinese characters and bigrams) in one language."""

    def __init__(self, language: str):
        self._zipf = _table(language)
        self._cache: dict[str, float] = {}

    def known(self, word: str) -> bool:
        """The word is in the everyday-language list (above its cut-off)."""
        return word in self._zipf

    def __call__(self, word: str) -> float:
        found = self._cache.get(word)
        if found is None:
            zipf = self._zipf.get(word)
            if zipf is None and len(word) == 2 and has_cjk(word):
                # two characters that are not a word (they straddle two words): as salient as the less salient one
                return min(self(word[0]), self(word[1]))
            if zipf is None:
                zipf = _ZIPF_MISSING if not word.isdigit() else 4.0  # numbers: ages, fees; ordinary words
            found = max(0.0, _ZIPF_CEILING - zipf)
            if len(self._cache) < 100_000:
                self._cache[word] = found
        return found
