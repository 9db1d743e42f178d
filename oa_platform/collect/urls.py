from django.urls import path

from oa_platform.collect import api

prefix = "accounts/<slug:slug>/forms/"
urlpatterns = [
    path(prefix, api.FormListView.as_view(), name="api-forms"),
    path(f"{prefix}<id:pk>/questions/", api.FormQuestionsView.as_view(), name="api-form-questions"),
    path(f"{prefix}<id:pk>/responses/", api.FormResponsesView.as_view(), name="api-form-responses"),
    path(f"{prefix}<id:pk>/results/", api.FormResultsView.as_view(), name="api-form-results"),
]
