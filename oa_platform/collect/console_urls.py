"""The collection pages of the staff console; included by oa_platform.staff_urls at /staff/<slug>/forms/ (in
the "staff" namespace)."""

from django.urls import path

from oa_platform.collect import console

urlpatterns = [
    path("", console.forms, name="forms"),
    path("<int:pk>/", console.form_results, name="form-results"),
    path("<int:pk>/live/", console.form_results_live, name="form-results-live"),
    path("<int:pk>/export/", console.form_export, name="form-export"),
    path("<int:pk>/remind/", console.form_remind, name="form-remind"),
]
