from django.urls import include, path

from broadcasts.personal import views as personal_views
from oa_platform import staff_views
from oa_platform.console import faq as faq_views
from oa_platform.console import inbox, notices, today

app_name = "staff"
urlpatterns = [
    path("", staff_views.home, name="home"),
    path("<slug:slug>/", today.today, name="today"),
    path("<slug:slug>/inbox/", inbox.inbox, name="inbox"),
    path("<slug:slug>/inbox/<id:pk>/", inbox.inbox, name="conversation"),
    path("<slug:slug>/conversations.json", inbox.conversations_json, name="conversations-json"),
    path("<slug:slug>/c/<id:pk>/messages.json", inbox.messages_json, name="messages-json"),
    path("<slug:slug>/c/<id:pk>/assign/", staff_views.assign, name="assign"),
    path("<slug:slug>/c/<id:pk>/reply/", staff_views.reply, name="reply"),
    path("<slug:slug>/c/<id:pk>/close/", staff_views.close, name="close"),
    path("<slug:slug>/m/<id:pk>/retry/", staff_views.retry, name="retry"),
    path("<slug:slug>/saved-replies/", staff_views.saved_reply_add, name="saved-reply-add"),
    path("<slug:slug>/saved-replies/<id:pk>/delete/", staff_views.saved_reply_remove, name="saved-reply-delete"),
    path("<slug:slug>/faq/", faq_views.faq_list, name="faq"),
    path("<slug:slug>/faq/new/", faq_views.faq_add, name="faq-add"),
    path("<slug:slug>/faq/<id:pk>/", faq_views.faq_edit, name="faq-edit"),
    path("<slug:slug>/faq/<id:pk>/toggle/", faq_views.faq_toggle, name="faq-toggle"),
    path("<slug:slug>/faq/<id:pk>/delete/", faq_views.faq_delete, name="faq-delete"),
    path("<slug:slug>/faq/review/", faq_views.faq_review, name="faq-review"),
    path("<slug:slug>/faq/review/variant/", faq_views.faq_review_variant, name="faq-review-variant"),
    path("<slug:slug>/faq/review/dismiss/", faq_views.faq_review_dismiss, name="faq-review-dismiss"),
    path("<slug:slug>/faq/try/", faq_views.faq_try, name="faq-try"),
    path("<slug:slug>/faq/synonyms/", faq_views.faq_synonyms, name="faq-synonyms"),
    path("<slug:slug>/faq/synonyms/<id:pk>/delete/", faq_views.faq_synonym_delete, name="faq-synonym-delete"),
    # Notices (oa_platform/console/notices.py)
    path("<slug:slug>/notices/", notices.notice_list, name="notices"),
    path("<slug:slug>/notices/new/", notices.notice_new, name="notice-new"),
    path("<slug:slug>/notices/<id:pk>/", notices.notice_detail, name="notice"),
    path("<slug:slug>/notices/<id:pk>/content/", notices.notice_content, name="notice-content"),
    path("<slug:slug>/notices/<id:pk>/audience/", notices.notice_audience, name="notice-audience"),
    path("<slug:slug>/notices/<id:pk>/audience.json", notices.notice_audience_count, name="notice-audience-count"),
    path("<slug:slug>/notices/<id:pk>/schedule/", notices.notice_schedule, name="notice-schedule"),
    path("<slug:slug>/notices/<id:pk>/check/", notices.notice_check, name="notice-check"),
    path("<slug:slug>/notices/<id:pk>/progress.json", notices.notice_progress, name="notice-progress"),
    path("<slug:slug>/notices/<id:pk>/approve/", notices.notice_approve, name="notice-approve"),
    path("<slug:slug>/notices/<id:pk>/reject/", notices.notice_reject, name="notice-reject"),
    path("<slug:slug>/notices/<id:pk>/cancel/", notices.notice_cancel, name="notice-cancel"),
    path("<slug:slug>/notices/<id:pk>/follow-up/", notices.notice_follow_up, name="notice-follow-up"),
    path("<slug:slug>/notices/<id:pk>/cap.xml", notices.notice_cap, name="notice-cap"),
    # Personal notices (broadcasts/personal/views.py)
    path("<slug:slug>/personal/", personal_views.personal_home, name="personal"),
    path("<slug:slug>/personal/templates/new/", personal_views.personal_template_new, name="personal-template-new"),
    path(
        "<slug:slug>/personal/templates/<slug:key>/approve/",
        personal_views.personal_template_approve,
        name="personal-template-approve",
    ),
    path("<slug:slug>/personal/lists/<id:pk>/", personal_views.personal_list, name="personal-list"),
    path("<slug:slug>/personal/lists/<id:pk>/submit/", personal_views.personal_submit, name="personal-submit"),
    path("<slug:slug>/personal/lists/<id:pk>/approve/", personal_views.personal_approve, name="personal-approve"),
    path("<slug:slug>/personal/lists/<id:pk>/cancel/", personal_views.personal_cancel, name="personal-cancel"),
    path("<slug:slug>/personal/lists/<id:pk>/report.csv", personal_views.personal_report, name="personal-report"),
    path("<slug:slug>/forms/", include("oa_platform.collect.console_urls")),
]
