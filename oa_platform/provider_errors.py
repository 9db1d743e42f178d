"""What staff see of a provider's refusal: the HTTP status or the provider's numeric error code, and a reason
from a small fixed set. Never the provider's own text: an error body can carry HTML, a stack trace, an echoed
credential or the citizen's message, and it would be stored on the message or delivery and shown in the
admin and the staff inbox."""

from __future__ import annotations

REASON_REQUEST = "request refused"
REASON_RECIPIENT = "recipient refused"
REASON_CREDENTIALS = "credentials refused"
REASON_ENDPOINT = "endpoint not found"
REASON_TIMEOUT = "timeout"
REASON_TOO_LARGE = "message too large"
REASON_RATE = "rate limited"
REASON_PROVIDER = "provider error"
REASON_OTHER = "refused by the provider"

HTTP_REASONS = {
    400: REASON_REQUEST,
    401: REASON_CREDENTIALS,
    403: REASON_CREDENTIALS,
    404: REASON_ENDPOINT,
    405: REASON_ENDPOINT,
    408: REASON_TIMEOUT,
    410: REASON_ENDPOINT,
    413: REASON_TOO_LARGE,
    422: REASON_REQUEST,
    429: REASON_RATE,
}
# Words in a 400/422 answer that say the recipient (not the request) was refused; only the class is kept.
RECIPIENT_WORDS = ("phone", "number", "recipient", "msisdn", "subscriber", "blocked", "user")


def http_reason(status: int, hint: str = "") -> str:
    """The reason class of an HTTP error status; ``hint`` (the provider's text) only picks the class."""
    if status >= 500:
        return REASON_PROVIDER
    reason = HTTP_REASONS.get(status, REASON_OTHER)
    if reason == REASON_REQUEST and any(word in hint.lower() for word in RECIPIENT_WORDS):
        return REASON_RECIPIENT
    return reason


def http_error_summary(status: int, hint: str = "") -> str:
    """e.g. ``HTTP 400: recipient refused``."""
    return f"HTTP {status}: {http_reason(status, hint)}"


def error_code(value) -> int | None:
    """A provider's error code if it is a number (ints or numeric strings), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 12:
        return int(value.strip())
    return None


def code_error_summary(provider: str, code, known: dict[int, str]) -> str:
    """e.g. ``Zalo -213: user has not followed the account``; an unknown code gets the generic reason."""
    number = error_code(code)
    if number is None:
        return f"{provider}: {REASON_OTHER}"
    return f"{provider} {number}: {known.get(number, REASON_OTHER)}"
