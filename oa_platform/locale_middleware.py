"""Pick the page language: the person's own choice (the language cookie set by the switch), else the
account's default language on its pages, else Vietnamese. The browser's Accept-Language is not used: a phone
set to English in Ha Noi still gets the agency's Vietnamese page until the citizen switches."""

import re

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers

from oa_platform.hybrid_middleware import HybridMiddleware
from oa_platform.models import OfficialAccount

# The account's own pages: its citizen page and its web forms.
ACCOUNT_PATH = re.compile(r"^/(?:oa|f)/(?P<slug>[-\w]+)/")
SUPPORTED = {code for code, _name in settings.LANGUAGES}


def _account_language(path: str) -> str | None:
    match = ACCOUNT_PATH.match(path)
    if not match:
        return None
    language = OfficialAccount.objects.filter(slug=match["slug"]).values_list("default_language", flat=True).first()
    return language if language in SUPPORTED else None


class LocaleMiddleware(HybridMiddleware):
    def __init__(self, get_response):
        self._set_mode(get_response)

    def _call(self, request):
        account_language = None
        if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) not in SUPPORTED:
            account_language = _account_language(request.path_info)
        self._activate(request, account_language)
        return self._finish(request, self.get_response(request))

    async def _acall(self, request):
        account_language = None
        if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) not in SUPPORTED and ACCOUNT_PATH.match(
            request.path_info
        ):
            account_language = await sync_to_async(_account_language)(request.path_info)
        self._activate(request, account_language)
        return self._finish(request, await self.get_response(request))

    @staticmethod
    def _activate(request, account_language: str | None) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in SUPPORTED:
            chosen = account_language or settings.LANGUAGE_CODE
        translation.activate(chosen)
        request.LANGUAGE_CODE = translation.get_language()

    @staticmethod
    def _finish(request, response):
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
