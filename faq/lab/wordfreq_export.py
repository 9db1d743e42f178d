"""Export the general-language word frequencies the matcher ships (faq/data/wordfreq_<lang>.json).

    python -m faq.lab.wordfreq_export

Source: the `wordfreq` package (code Apache-2.0; word lists CC-BY-SA 4.0, by Robyn Speer and contributors,
built from Wikipedia, subtitles, news, books, web text and more). Only the lookup table is shipped, in the
matcher's own spelling of a word (Vietnamese: as typed and diacritic-folded; English: stemmed; Chinese:
simplified words of one or two characters, the matcher's units), so the 58 MB package is a development
dependency, not a run-time one. A word absent from a table is rarer than its cut-off.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from faq.normalize import fold, stem_en, to_simplified

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
# Lowest Zipf frequency kept (3 = once per million words); Vietnamese syllables are all kept (10,719).
MIN_ZIPF = {"vi": 0.0, "en": 3.0, "zh": 3.0}


def export(language: str) -> dict[str, float]:
    import wordfreq  # development dependency (requirements-dev.txt)

    table: dict[str, float] = {}

    def put(word: str, zipf: float) -> None:
        if word and zipf > table.get(word, -1.0):
            table[word] = round(zipf, 2)

    for word, freq in wordfreq.get_frequency_dict(language).items():
        zipf = math.log10(freq) + 9
        if zipf < MIN_ZIPF[language]:
            continue
        if language == "vi":
            put(word, zipf)
            put(fold(word), zipf)  # a word typed without diacritics is filler when any reading of it is
        elif language == "en":
            if word.isalpha() or word.isdigit():
                put(fold(stem_en(word)), zipf)
        else:
            word = to_simplified(word)
            if 1 <= len(word) <= 2:
                put(word, zipf)
    return table


def main() -> int:
    DATA_DIR.mkdir(exist_ok=True)
    for language in ("vi", "en", "zh"):
        table = export(language)
        path = DATA_DIR / f"wordfreq_{language}.json"
        with path.open("w", encoding="utf-8") as fh:
            json.dump(dict(sorted(table.items())), fh, ensure_ascii=False, separators=(",", ":"))
        print(f"{path}: {len(table)} words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
