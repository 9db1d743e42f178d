"""Refuse a NUL character in a query string (``?status=%00``) with a 400 before any view runs.

No valid parameter of this site holds one, and PostgreSQL refuses NUL in text: Django's admin lists passed
such a filter value on to the query and answered 500. One check on the raw query string, no parsing; bodies
are checked where they are read (webhooks, API, forms)."""

from django.core.exceptions import SuspiciousOperation

from oa_platform.hybrid_middleware import HybridMiddleware


class NulInQueryString(SuspiciousOperation):
    """Django answers it with the 400 handler and logs it on django.security."""


def nul_check(request) -> None:
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query:
        raise NulInQueryString("NUL character in the query string.")


class NulByteMiddleware(HybridMiddleware):
    """First in MIDDLEWARE. Runs in the chain's own mode (no thread hop under ASGI)."""

    def __init__(self, get_response):
        self._set_mode(get_response)

    def _call(self, request):
        nul_check(request)
        return self.get_response(request)

    async def _acall(self, request):
        nul_check(request)
        return await self.get_response(request)
