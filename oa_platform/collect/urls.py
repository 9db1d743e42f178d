from django.urls import path

from oa_platform.collect import api

prefix = "accounts/<slug:slug>/forms/"
urlpatterns = [
    path(prefix, api.FormListView.as_view(), name="api-forms"),
    path(f"{prefix}<int:pk>/questions/", api.FormQuestionsView.as_view(), name="api-form-questions"),
    path(f"{prefix}<int:pk>/settings/", api.FormSettingsView.as_view(), name="api-form-settings"),
    path(f"{prefix}<int:pk>/responses/", api.FormResponsesView.as_view(), name="api-form-responses"),
    path(f"{prefix}<int:pk>/results/", api.FormResultsView.as_view(), name="api-form-results"),
]
