"""A logging filter that keeps personal data (phone numbers) out of log lines."""

import logging

from oa_platform.phones import PHONE_RE


def redact(text: str) -> str:
    return PHONE_RE.sub("[phone]", text)


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not kill logging
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
