from django.urls import path

from broadcasts import api

prefix = "accounts/<slug:slug>/notices/"
urlpatterns = [
    path(prefix, api.NoticeListView.as_view(), name="api-notices"),
    path(f"{prefix}cap/", api.NoticeCapImportView.as_view(), name="api-notice-cap-import"),
    path(f"{prefix}<id:pk>/", api.NoticeDetailView.as_view(), name="api-notice"),
    path(f"{prefix}<id:pk>/submit/", api.NoticeSubmitView.as_view(), name="api-notice-submit"),
    path(f"{prefix}<id:pk>/approve/", api.NoticeApproveView.as_view(), name="api-notice-approve"),
    path(f"{prefix}<id:pk>/cancel/", api.NoticeCancelView.as_view(), name="api-notice-cancel"),
    path(f"{prefix}<id:pk>/follow-up/", api.NoticeFollowUpView.as_view(), name="api-notice-follow-up"),
    path(f"{prefix}<id:pk>/preview/", api.NoticePreviewView.as_view(), name="api-notice-preview"),
    path(f"{prefix}<id:pk>/progress/", api.NoticeProgressView.as_view(), name="api-notice-progress"),
    path(f"{prefix}<id:pk>/cap/", api.NoticeCapExportView.as_view(), name="api-notice-cap"),
]
