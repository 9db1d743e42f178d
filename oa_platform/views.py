from django.http import JsonResponse
from django.shortcuts import render

from oa_platform.selectors import accounts_public


def home(request):
    return render(request, "oa/home.html", {"accounts": accounts_public()})


def healthz(request):
    return JsonResponse({"ok": True})
