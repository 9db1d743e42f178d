from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from oa_platform import api, views

handler400 = views.bad_request
handler403 = views.permission_denied_page
handler404 = views.not_found
handler500 = views.server_error_page

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("oa/<slug:slug>/", include("oa_platform.web_urls")),
    path("webhooks/", include("oa_platform.webhooks.urls")),
    path("webhooks/personal/", include("broadcasts.personal.webhook_urls")),
    path("f/", include("oa_platform.collect.web_urls")),
    path("staff/", include("oa_platform.staff_urls")),
    path("api/v1/accounts/<slug:slug>/messages/", api.ChatMessagesView.as_view(), name="api-chat-messages"),
    path("api/v1/", include("broadcasts.urls")),
    path("api/v1/", include("broadcasts.personal.urls")),
    path("api/v1/", include("oa_platform.collect.urls")),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]),
        name="schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", permission_classes=[], authentication_classes=[]),
        name="swagger-ui",
    ),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
