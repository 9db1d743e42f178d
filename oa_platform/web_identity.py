"""Who is this browser? A signed, long-lived cookie ``oa_cid`` holding a random web-channel citizen id.

The cookie is set on the first page view; the ``Citizen`` row is created only on the first write (a message,
a follow, a setting), so crawlers that only read pages create nothing. The same cookie identifies the
citizen on the WebSocket (``scope["cookies"]``).
"""

from __future__ import annotations

import secrets

from django.core import signing
from django.http import HttpRequest, HttpResponse

from oa_platform.models import Citizen
from oa_platform.services import citizen_get_or_create

COOKIE_NAME = "oa_cid"
COOKIE_SALT = "oa.web.cid"
# Two years: a citizen keeps their conversation and follows on this browser without an account.
COOKIE_MAX_AGE = 2 * 365 * 24 * 3600
# Random id length in bytes (before base64): 128 bits cannot be guessed, and it fits Citizen.external_id.
CID_BYTES = 16


def _signer() -> signing.TimestampSigner:
    # Our own signer (not set_signed_cookie) so the page and the WebSocket share one documented format.
    return signing.TimestampSigner(salt=COOKIE_SALT)


def new_cid() -> str:
    return "w_" + secrets.token_urlsafe(CID_BYTES)


def cid_from_cookie_value(raw: str | None) -> str | None:
    """The citizen id inside a signed cookie value, or None if missing, tampered or malformed."""
    if not raw:
        return None
    try:
        value = _signer().unsign(raw, max_age=COOKIE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not value.startswith("w_") or len(value) > 64:
        return None
    return value


def cid_from_request(request: HttpRequest) -> str | None:
    cid = getattr(request, "_oa_cid", None)
    if cid:
        return cid
    return cid_from_cookie_value(request.COOKIES.get(COOKIE_NAME))


def cid_ensure(request: HttpRequest) -> str:
    """This browser's id; a new one is remembered on the request and set as a cookie by ``cid_persist``."""
    cid = cid_from_request(request)
    if cid is None:
        cid = new_cid()
        request._oa_cid_new = True
    request._oa_cid = cid
    return cid


def cid_persist(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Set the cookie when ``cid_ensure`` minted a new id for this request."""
    if getattr(request, "_oa_cid_new", False):
        response.set_cookie(
            COOKIE_NAME,
            signed_cookie_value(request._oa_cid),
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def signed_cookie_value(cid: str) -> str:
    """The cookie value for ``cid`` (tests and the WebSocket client use it)."""
    return _signer().sign(cid)


def citizen_lookup(cid: str | None) -> Citizen | None:
    """The web citizen of ``cid`` if one was created already (reads only)."""
    if not cid:
        return None
    return Citizen.objects.filter(account=None, channel=Citizen.CHANNEL_WEB, external_id=cid).first()


def citizen_for_write(request: HttpRequest) -> Citizen:
    """The web citizen of this browser, created now if this is its first write."""
    return citizen_get_or_create_for_write(request)[0]


def citizen_get_or_create_for_write(request: HttpRequest) -> tuple[Citizen, bool]:
    """citizen_for_write, and whether the citizen was created now."""
    cid = cid_ensure(request)
    language = getattr(request, "LANGUAGE_CODE", None)
    return citizen_get_or_create(account=None, channel=Citizen.CHANNEL_WEB, external_id=cid, language=language)
