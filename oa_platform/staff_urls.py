from django.urls import path

from broadcasts.personal import views as personal_views
from oa_platform import staff_views

app_name = "staff"
urlpatterns = [
    path("", staff_views.home, name="home"),
    path("<slug:slug>/", staff_views.inbox, name="inbox"),
    path("<slug:slug>/conversations.json", staff_views.conversations_json, name="conversations-json"),
    path("<slug:slug>/c/<int:pk>/", staff_views.inbox, name="conversation"),
    path("<slug:slug>/c/<int:pk>/messages.json", staff_views.messages_json, name="messages-json"),
    path("<slug:slug>/c/<int:pk>/assign/", staff_views.assign, name="assign"),
    path("<slug:slug>/c/<int:pk>/reply/", staff_views.reply, name="reply"),
    path("<slug:slug>/c/<int:pk>/close/", staff_views.close, name="close"),
    path("<slug:slug>/m/<int:pk>/retry/", staff_views.retry, name="retry"),
    path("<slug:slug>/saved-replies/", staff_views.saved_reply_add, name="saved-reply-add"),
    path("<slug:slug>/saved-replies/<int:pk>/delete/", staff_views.saved_reply_remove, name="saved-reply-delete"),
    path("<slug:slug>/personal/", personal_views.personal_home, name="personal"),
    path("<slug:slug>/personal/templates/new/", personal_views.personal_template_new, name="personal-template-new"),
    path(
        "<slug:slug>/personal/templates/<slug:key>/approve/",
        personal_views.personal_template_approve,
        name="personal-template-approve",
    ),
    path("<slug:slug>/personal/lists/<int:pk>/", personal_views.personal_list, name="personal-list"),
    path("<slug:slug>/personal/lists/<int:pk>/submit/", personal_views.personal_submit, name="personal-submit"),
    path("<slug:slug>/personal/lists/<int:pk>/approve/", personal_views.personal_approve, name="personal-approve"),
    path("<slug:slug>/personal/lists/<int:pk>/cancel/", personal_views.personal_cancel, name="personal-cancel"),
    path("<slug:slug>/personal/lists/<int:pk>/report.csv", personal_views.personal_report, name="personal-report"),
]
