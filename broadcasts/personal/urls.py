from django.urls import path

from broadcasts.personal import api

prefix = "accounts/<slug:slug>/"
urlpatterns = [
    path(f"{prefix}templates/", api.TemplateListView.as_view(), name="api-personal-templates"),
    path(f"{prefix}templates/<slug:key>/approve/", api.TemplateApproveView.as_view(), name="api-personal-approve"),
    path(f"{prefix}notifications/", api.NotificationListView.as_view(), name="api-personal-notifications"),
    path(f"{prefix}notifications/callback/", api.CallbackView.as_view(), name="api-personal-callback"),
    path(f"{prefix}notifications/<id:pk>/", api.NotificationDetailView.as_view(), name="api-personal-notification"),
]
