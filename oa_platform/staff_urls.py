from django.urls import path

from oa_platform import staff_views
from oa_platform.console import inbox, today

app_name = "staff"
urlpatterns = [
    path("", staff_views.home, name="home"),
    path("<slug:slug>/", today.today, name="today"),
    path("<slug:slug>/inbox/", inbox.inbox, name="inbox"),
    path("<slug:slug>/inbox/<int:pk>/", inbox.inbox, name="conversation"),
    path("<slug:slug>/conversations.json", inbox.conversations_json, name="conversations-json"),
    path("<slug:slug>/c/<int:pk>/messages.json", inbox.messages_json, name="messages-json"),
    path("<slug:slug>/c/<int:pk>/assign/", staff_views.assign, name="assign"),
    path("<slug:slug>/c/<int:pk>/reply/", staff_views.reply, name="reply"),
    path("<slug:slug>/c/<int:pk>/close/", staff_views.close, name="close"),
    path("<slug:slug>/m/<int:pk>/retry/", staff_views.retry, name="retry"),
    path("<slug:slug>/saved-replies/", staff_views.saved_reply_add, name="saved-reply-add"),
    path("<slug:slug>/saved-replies/<int:pk>/delete/", staff_views.saved_reply_remove, name="saved-reply-delete"),
]
