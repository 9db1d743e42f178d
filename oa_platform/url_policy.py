"""Which URLs the platform stores: web links (http and https only) and provider endpoints (also not private).

Every stored URL goes through ``validate_web_url``: it is attached to the model fields (so admin forms and
``full_clean`` use it) and called by the services that write without a form (CAP import, the notice API,
``set_channel``). A link a citizen can click must never run script: ``javascript:``, ``data:``,
``vbscript:`` and friends are refused however they are spelled (case, embedded tabs or newlines, which
browsers strip before reading the scheme, leading blanks), and so are scheme-relative ``//host`` links.

Provider endpoints (``validate_provider_url``) must in addition not name a loopback, link-local or private
address unless ``settings.ALLOW_PRIVATE_PROVIDER_URLS`` is on (tests and the embedded default); the send
path (``oa_platform.provider_http``) checks again what the host name resolves to at send time.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

WEB_SCHEMES = ("http", "https")
# Characters a browser silently drops from a URL before parsing it (WHATWG URL: tab and newlines anywhere,
# C0 controls and space at either end). A stored URL must not contain any of them, so "java\tscript:" cannot
# slip past a scheme check that the browser would then read as javascript:.
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
# Host names that always mean this machine or its private network, whatever DNS says.
LOCAL_HOST_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
LOCAL_HOST_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")

_url_validator = URLValidator(schemes=list(WEB_SCHEMES))


def _refuse(value: str) -> ValidationError:
    return ValidationError(
        _("Only http:// and https:// web addresses are allowed."), code="url_scheme", params={"value": value}
    )


def validate_web_url(value: str) -> None:
    """An absolute http(s) URL with a host, nothing a browser could read as another scheme. Blank passes
    (fields that allow blank say so themselves)."""
    if value is None or value == "":
        return
    if not isinstance(value, str) or _CONTROL_OR_SPACE.search(value):
        raise _refuse(str(value)[:80])
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme not in WEB_SCHEMES or not value.lower().startswith(f"{scheme}://"):
        raise _refuse(value[:80])
    try:
        _url_validator(value)
    except ValidationError as exc:
        raise _refuse(value[:80]) from exc
    if not urlsplit(value).hostname:
        raise _refuse(value[:80])


def is_web_url(value: str) -> bool:
    """True for a URL ``validate_web_url`` accepts (templates and APIs render a link only then)."""
    if not value:
        return False
    try:
        validate_web_url(value)
    except ValidationError:
        return False
    return True


def is_public_address(address: str) -> bool:
    """True for a globally routable IP address (not loopback, link-local, private, reserved, multicast...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def private_host_reason(host: str) -> str | None:
    """Why ``host`` (a name or an IP literal, as written in a URL) is not a public endpoint, else None.
    Names are not resolved here; the send path checks resolved addresses."""
    host = host.strip("[]").rstrip(".").lower()
    if host in LOCAL_HOST_NAMES or host.endswith(LOCAL_HOST_SUFFIXES):
        return "local host name"
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return None if is_public_address(host) else "private address"


def validate_provider_url(value: str) -> None:
    """A provider endpoint: a web URL that does not point at this machine or a private network, unless
    ``ALLOW_PRIVATE_PROVIDER_URLS`` is on."""
    validate_web_url(value)
    if not value or settings.ALLOW_PRIVATE_PROVIDER_URLS:
        return
    if private_host_reason(urlsplit(value).hostname or ""):
        raise ValidationError(
            _("Provider addresses may not point at this machine or a private network."),
            code="url_private",
            params={"value": value[:80]},
        )
