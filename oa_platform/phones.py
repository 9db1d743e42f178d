"""Phone numbers: parse to E.164 (Vietnamese by default) and mask for staff."""

import re

import phonenumbers

DEFAULT_REGION = "VN"
# Anything that looks like a phone number in free text: an optional +, then 9 to 15 digits with optional
# separators. Broad on purpose (foreign numbers, typos): hiding a few other numbers costs less than showing a phone.
PHONE_RE = re.compile(r"(?<![\w])\+?\d(?:[\s.-]?\d){8,14}(?![\w])")
# Keys of provider payloads whose values are ids and times, never a person's number (they match PHONE_RE).
NOT_PHONE_KEYS = frozenset({"timestamp", "app_id", "msg_id", "MsgId", "CreateTime"})


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """Return ``raw`` in E.164, or '' for an empty value. Raises InvalidPhone for anything else."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    if len(raw) > 32:
        raise InvalidPhone("phone number too long")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_digits(e164: str) -> str:
    """The national significant number ('+84912345678' -> '912345678'): part of both the E.164 and the
    national form ('0912345678'), so one search for it finds either."""
    if not e164:
        return ""
    return phonenumbers.national_significant_number(phonenumbers.parse(e164))


def mask_phone(e164: str) -> str:
    """'+84912345678' -> '+84******678': staff see only the last three digits."""
    if not e164:
        return ""
    digits = e164.lstrip("+")
    if len(digits) <= 5:
        return "*" * len(digits)
    country = str(phonenumbers.parse(e164).country_code) if e164.startswith("+") else ""
    hidden = len(digits) - len(country) - 3
    return f"+{country}{'*' * hidden}{digits[-3:]}"


def _mask_any(raw: str) -> str:
    """A phone as staff may see it: E.164 masked when it parses, else every digit but the last three hidden."""
    try:
        e164 = normalize_phone(raw)
    except InvalidPhone:
        e164 = ""
    if e164:
        return mask_phone(e164)
    digits = [c for c in raw if c.isdigit()]
    return ("+" if raw.strip().startswith("+") else "") + "*" * max(len(digits) - 3, 0) + "".join(digits[-3:])


def mask_phones_in_text(text: str) -> str:
    return PHONE_RE.sub(lambda match: _mask_any(match.group()), text)


def mask_phones_in(value, key: str = ""):
    """A copy of a JSON value (a provider's raw event) with the phone numbers masked: the whole value of a key
    naming a phone, and phone-like numbers in every other string (ids and timestamps excepted)."""
    if isinstance(value, dict):
        return {k: mask_phones_in(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_phones_in(v, key) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):  # a phone sent as a JSON number
        masked = value if key in NOT_PHONE_KEYS else mask_phones_in(str(value), key)
        return value if masked == str(value) else masked
    if not isinstance(value, str) or key in NOT_PHONE_KEYS:
        return value
    if "phone" in key.lower() and value.strip():
        return _mask_any(value)
    return mask_phones_in_text(value)
