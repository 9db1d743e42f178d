"""Vietnamese sort order for names (areas), without ICU.

The key compares base letters in the Vietnamese alphabet's order (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s
t u ư v x y; f j w z, absent from Vietnamese, after the letter they look like in Latin order), ignoring case and
tones; then tones (none, grave, hook, tilde, acute, dot below: the order of Vietnamese dictionaries and of
ICU's ``vi`` collation) letter by letter; then case. Word boundaries count: a space sorts before every letter,
so "Cà Mau" sorts before "Cao Bằng". Digits and other characters keep their code point order, before letters.
"""

from __future__ import annotations

import unicodedata

# Base letters in Vietnamese order; a letter's rank is its position here (offset past digits and punctuation).
ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: i for i, letter in enumerate(ALPHABET)}
_LETTER_BASE = 0x10000  # letters after every non-letter code point kept as is

# Tone marks (combining characters after NFD) and their secondary weight; 0 is no tone.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
# Marks that make a distinct base letter (ă â ê ô ơ ư), kept with the letter when tones are taken off.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}


def _split(char: str) -> tuple[str, int]:
    """One NFC character -> (its base letter with the shape marks, lower case; its tone weight)."""
    decomposed = unicodedata.normalize("NFD", char.lower())
    tone = 0
    base = ""
    for part in decomposed:
        if part in _TONES:
            tone = _TONES[part]
        elif unicodedata.combining(part) and part not in _LETTER_MARKS:
            continue  # other accents (é in a foreign name) do not change the letter
        else:
            base += part
    return unicodedata.normalize("NFC", base), tone


def vietnamese_key(text: str) -> tuple:
    """A sort key: ``sorted(names, key=vietnamese_key)`` orders names as a Vietnamese reader expects."""
    text = " ".join(unicodedata.normalize("NFC", text).split())
    primary, secondary, tertiary = [], [], []
    for char in text:
        base, tone = _split(char)
        rank = _RANK.get(base)
        primary.append(_LETTER_BASE + rank if rank is not None else ord(base[:1] or char))
        secondary.append(tone)
        tertiary.append(0 if char == char.lower() else 1)
    return tuple(primary), tuple(secondary), tuple(tertiary)


def normalise_name(name: str) -> str:
    """A shipped name as stored: NFC, single spaces, no leading or trailing space."""
    return " ".join(unicodedata.normalize("NFC", name).split())
