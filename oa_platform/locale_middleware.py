"""Pick the page language: the person's own choice (the language cookie set by the switch), else the
account's default language on its pages, else Vietnamese. The browser's Accept-Language is not used: a phone
set to English in Ha Noi still gets the agency's Vietnamese page until the citizen switches."""

import re

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers

from oa_platform.models import OfficialAccount

ACCOUNT_PATH = re.compile(r"^/oa/(?P<slug>[-\w]+)/")
SUPPORTED = {code for code, _name in settings.LANGUAGES}


def _account_language(path: str) -> str | None:
    match = ACCOUNT_PATH.match(path)
    if not match:
        return None
    language = OfficialAccount.objects.filter(slug=match["slug"]).values_list("default_language", flat=True).first()
    return language if language in SUPPORTED else None


class LocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in SUPPORTED:
            chosen = _account_language(request.path_info) or settings.LANGUAGE_CODE
        translation.activate(chosen)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
