from django.urls import include, path

from oa_platform import staff_views
from oa_platform.console import faq as faq_views

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
    path("<slug:slug>/faq/", faq_views.faq_list, name="faq"),
    path("<slug:slug>/faq/new/", faq_views.faq_add, name="faq-add"),
    path("<slug:slug>/faq/<int:pk>/", faq_views.faq_edit, name="faq-edit"),
    path("<slug:slug>/faq/<int:pk>/toggle/", faq_views.faq_toggle, name="faq-toggle"),
    path("<slug:slug>/faq/<int:pk>/delete/", faq_views.faq_delete, name="faq-delete"),
    path("<slug:slug>/faq/review/", faq_views.faq_review, name="faq-review"),
    path("<slug:slug>/faq/review/variant/", faq_views.faq_review_variant, name="faq-review-variant"),
    path("<slug:slug>/faq/review/dismiss/", faq_views.faq_review_dismiss, name="faq-review-dismiss"),
    path("<slug:slug>/faq/try/", faq_views.faq_try, name="faq-try"),
    path("<slug:slug>/faq/synonyms/", faq_views.faq_synonyms, name="faq-synonyms"),
    path("<slug:slug>/faq/synonyms/<int:pk>/delete/", faq_views.faq_synonym_delete, name="faq-synonym-delete"),
    path("<slug:slug>/forms/", include("oa_platform.collect.console_urls")),
]
