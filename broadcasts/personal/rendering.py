"""Templates with ((placeholders)): finding them, filling them, and the SMS length in segments. Pure (no ORM).

Text is rendered as plain text (SMS, ZNS and chat messages carry plain text); HTML views escape the result
with Django's autoescape, and ``render_html`` escapes the values for the places that build HTML themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.html import escape

# ((name)): letters, digits, spaces, _ and - (GOV.UK Notify's syntax); at most 50 characters.
PLACEHOLDER_RE = re.compile(r"\(\(\s*([\w][\w \-]{0,49}?)\s*\)\)")
# A placeholder value longer than this is refused: a 10,000-character value is an error, not a message.
VALUE_MAX = 500
# At most this many placeholders in a template (a list row holds the values in as many columns).
MAX_PLACEHOLDERS = 30
BODY_MAX = 4000

# GSM 03.38 default alphabet (one septet each) and its extension table (escape + char: two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


class MissingValues(ValueError):
    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


def placeholders(*texts: str) -> list[str]:
    """The placeholder names in ``texts``, in order of first appearance, each once (case-insensitive)."""
    found: dict[str, None] = {}
    for text in texts:
        for match in PLACEHOLDER_RE.finditer(text or ""):
            found.setdefault(match.group(1).strip().lower(), None)
    return list(found)


def normalise_values(values: dict) -> dict[str, str]:
    """Keys lower-cased and stripped; values as text (numbers allowed, nothing else)."""
    out = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"{key}: a text value is expected")
        out[str(key).strip().lower()] = str(value)
    return out


def render(text: str, values: dict[str, str]) -> str:
    """``text`` with every ((placeholder)) replaced by its value. Raises MissingValues naming those without one
    (an empty value counts as missing: a message with a hole in it is worse than none)."""
    missing = [name for name in placeholders(text) if not str(values.get(name, "")).strip()]
    if missing:
        raise MissingValues(missing)
    return PLACEHOLDER_RE.sub(lambda m: values[m.group(1).strip().lower()], text)


def render_html(text: str, values: dict[str, str]) -> str:
    """The rendered text as safe HTML: the template and every value escaped, line breaks kept as <br>."""
    return escape(render(text, values)).replace("\n", "<br>")


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7, extension characters count two) or UTF-16 code units (UCS-2)
    segments: int


def sms_length(text: str) -> SmsLength:
    """How many SMS segments ``text`` takes: GSM-7 when every character is in the GSM 03.38 alphabet (160 in
    one message, 153 per segment when concatenated), otherwise UCS-2 (70, or 67 per segment). Vietnamese with
    its diacritics is UCS-2; write the SMS text without them to pay a third as much."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units == 0:
        return SmsLength(encoding, 0, 0)
    segments = 1 if units <= single else -(-units // multi)
    return SmsLength(encoding, units, segments)
