from django.urls import path

from oa_platform.webhooks import views

urlpatterns = [
    path("zalo/<slug:slug>/", views.zalo_webhook, name="webhook-zalo"),
    path("wechat/<slug:slug>/", views.wechat_webhook, name="webhook-wechat"),
    path("generic/<slug:slug>/", views.generic_webhook, name="webhook-generic"),
]
