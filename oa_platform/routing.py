from django.urls import path

from oa_platform import consumers, staff_consumers
from oa_platform.collect.consumers import FormResultsConsumer

urlpatterns: list = []
websocket_urlpatterns: list = [
    path("ws/oa/<slug:slug>/", consumers.CitizenChatConsumer.as_asgi()),
    path("ws/staff/<slug:slug>/", staff_consumers.StaffInboxConsumer.as_asgi()),
    path("ws/staff/<slug:slug>/forms/<id:pk>/", FormResultsConsumer.as_asgi()),
]
