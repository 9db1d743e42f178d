"""One JSON error shape for the whole API: {"error": {"code", "message", "fields"?}}."""

from django.http import Http404
from rest_framework import exceptions, parsers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from oa_platform.errors import DomainError, RateLimited


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus a 400 for "[[[[…" nested deeper than Python's recursion limit (else a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        response = Response(exc.as_dict(), status=exc.status)
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        body = {"code": "invalid", "message": "Invalid input.", "fields": detail}
    elif isinstance(exc, exceptions.APIException):
        body = {
            "code": exc.get_codes() if isinstance(exc.get_codes(), str) else "error",
            "message": str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail),
        }
    else:  # pragma: no cover - DRF handles only APIException subclasses
        body = {"code": "error", "message": str(detail)}
    response.data = {"error": body}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = "Token"
    return response
