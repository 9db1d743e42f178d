from django.urls import path

from oa_platform.webhooks import views

# One view; the kind in the path names the channel type that verifies and parses the request.
urlpatterns = [
    path("zalo/<slug:slug>/", views.webhook, {"kind": "zalo"}, name="webhook-zalo"),
    path("wechat/<slug:slug>/", views.webhook, {"kind": "wechat"}, name="webhook-wechat"),
    path("generic/<slug:slug>/", views.webhook, {"kind": "generic"}, name="webhook-generic"),
]
