"""The web form pages; included at /f/."""

from django.urls import path

from oa_platform.collect import views

urlpatterns = [
    path("sw.js", views.service_worker, name="collect-service-worker"),
    path("<slug:slug>/<id:pk>/", views.form_page, name="collect-form-page"),
    path("<slug:slug>/<id:pk>/responses/", views.form_submit, name="collect-form-submit"),
]
