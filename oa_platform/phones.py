"""Phone numbers: parse to E.164 (Vietnamese by default) and mask for staff."""

import phonenumbers

DEFAULT_REGION = "VN"


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
