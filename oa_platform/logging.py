"""A logging filter that keeps personal data (phone numbers) and credentials (access tokens, secrets in
query strings, as httpx logs a WeChat URL) out of log lines. Installed on the console handler by
settings.LOGGING and on the handlers a Celery worker sets up (``celery_handlers_redact``)."""

import logging
import re

from oa_platform.phones import PHONE_RE

# ``name=value`` of a credential, as in a query string (``?access_token=…&``) or a form body, or ``name: value``
# as in a header: any name ending in token, secret, signature or password (access_token, X-OA-Signature,
# app_secret…), and key / api_key / sig. The value runs to the next separator. Case-insensitive.
SECRET_PARAM_RE = re.compile(
    r"(?i)((?<![\w-])(?:[\w-]*(?:token|secret|signature|password)|(?:api_?)?key|sig)(?:=|:\s*))[^&\s\"'<>,;]+"
)


def redact(text: str) -> str:
    return PHONE_RE.sub("[phone]", SECRET_PARAM_RE.sub(r"\1[redacted]", text))


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


def celery_handlers_redact(logger: logging.Logger, **kwargs) -> None:
    """Celery's after_setup_logger / after_setup_task_logger receiver: a worker replaces the root logger's
    handlers with its own, which would otherwise print unfiltered lines."""
    for handler in logger.handlers:
        if not any(isinstance(f, RedactPersonalData) for f in handler.filters):
            handler.addFilter(RedactPersonalData())
