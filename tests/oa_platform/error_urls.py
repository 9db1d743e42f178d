"""The site's URLs plus one view that fails, for the 500 page test (the handlers are the site's own)."""

from django.urls import path

from oa_platform.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def broken(request):
    raise RuntimeError("boom")


urlpatterns = [path("broken/", broken), path("api/v1/broken/", broken), *urlpatterns]
